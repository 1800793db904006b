"""Streamlit glue shared by pages: cached loading, the dataset picker, error display. No data logic here."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from .errors import DataError
from .loading import load_dataset
from .quality import analyse
from .sources import available_sources, describe_missing_data


@st.cache_resource(show_spinner="Loading dataset…", max_entries=4)
def cached_dataset(path: str, _mtime: float):
    return load_dataset(path)


@st.cache_resource(show_spinner="Checking data quality…", max_entries=4)
def cached_quality(path: str, version: str, _ds):
    return analyse(_ds)


def _mtime(path: str) -> float:
    p = Path(path).expanduser()
    return p.stat().st_mtime if p.exists() else 0.0


def load(path: str):
    """The dataset at `path`, cached per file version; DataError propagates for the caller to show."""
    return cached_dataset(path, _mtime(path))


def dataset_picker(key: str = "dataset"):
    """Sidebar picker (known sources + any path). Returns the loaded Dataset, or None after showing an error."""
    sources = available_sources()
    labels = [s.label for s in sources] + ["Other path…"]
    choice = st.sidebar.selectbox("Dataset", labels, key=f"{key}_source")
    if choice == "Other path…":
        path = st.sidebar.text_input("Path to a FER2013 CSV (.csv/.csv.gz), CK+ CSV or image folder",
                                     key=f"{key}_path").strip()
        if not path:
            st.info("Type the path of a dataset in the sidebar.")
            return None
    else:
        path = sources[labels.index(choice)].path
    hint = describe_missing_data()
    if hint:
        st.sidebar.caption(hint)
    try:
        return load(path)
    except DataError as exc:
        show_data_error(exc)
        return None


def show_data_error(exc: DataError) -> None:
    st.error(f"**Cannot use this data.** {exc.message}")


def demo_banner(ds) -> None:
    if ds.is_demo:
        st.warning("**Demo dataset.** " + " ".join(ds.notes[:2]), icon="🧪")


def link_to_page(script: str, label: str, icon: str | None = None) -> None:
    """st.page_link, or a plain link when the page is not registered (e.g. a page script run on its own)."""
    from streamlit.errors import StreamlitAPIException
    try:
        st.page_link(script, label=label, icon=icon)
    except StreamlitAPIException:
        slug = script.rsplit("/", 1)[-1].removesuffix(".py").split("_", 1)[-1]
        st.markdown(f"[{label}](/{slug})")
