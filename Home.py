import streamlit_webrtc  # noqa: F401  (must load before TensorFlow; see README "Pitfalls")
import streamlit as st

from fer_core.errors import DataError
from fer_core.pages import PAGES
from fer_core.runs import default_run, list_runs
from fer_core.sources import default_source, describe_missing_data
from fer_core.ui import demo_banner, link_to_page, load, show_data_error

st.set_page_config(page_title="FER Studio", page_icon="🙂", layout="wide")
st.title("FER Studio")
st.caption("A workbench for facial emotion recognition: curate datasets, train and compare models, try them live.")

st.subheader("Loaded dataset")
source = default_source()
try:
    ds = load(source.path)
except DataError as exc:
    show_data_error(exc)
else:
    demo_banner(ds)
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Dataset", ds.name.split(" (")[0], help=ds.name)
    c2.metric("Images", f"{len(ds):,}")
    c3.metric("Data version", ds.version[:8], help=f"full: {ds.version}")
    c4.metric("FERPlus votes", "attached" if ds.votes is not None else "—")
    st.caption(f"Source: `{ds.source}` · splits: " + ", ".join(f"{s} {int((ds.splits == s).sum()):,}" for s in ds.split_names))
hint = describe_missing_data()
if hint:
    st.info(hint)

st.subheader("Models")
runs = list_runs()
default = default_run()
if default:
    st.caption(f"Default model for Live: `{default['id']}`" + (f" — {default['record']['label']}"
                                                              if default["record"].get("label") else ""))
if runs:
    st.dataframe([{"run": r["id"], "architecture": r["config"].get("architecture", "?"),
                   "data version": r["config"].get("data_version", "?"),
                   "test accuracy": r["metrics"].get("test", {}).get("accuracy")} for r in runs],
                 hide_index=True)
else:
    st.write("No saved runs under `models/` yet.")

st.subheader("Pages")
for page in PAGES:
    link_to_page(page.script, page.title, page.icon)
    st.caption(page.summary)
