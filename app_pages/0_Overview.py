"""Home: the loaded dataset, the saved runs and the default model."""
import streamlit as st

from fer_core.app.ui import demo_banner, load, model_card, percent, show_error
from fer_core.data.sources import default_source, describe_missing_data
from fer_core.errors import FerStudioError
from fer_core.runs.store import default_run, list_runs

st.title("FER Studio")
st.caption("A workbench for facial emotion recognition: curate datasets, train and compare models, try them live. "
           "Pick a page in the sidebar.")

st.subheader("Loaded dataset")
source = default_source()
try:
    ds = load(source.path)
except FerStudioError as exc:
    show_error(exc)
else:
    demo_banner(ds)
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Dataset", ds.name.split(" (")[0], help=ds.name)
    c2.metric("Images", f"{len(ds):,}")
    c3.metric("Data version", ds.version[:8], help=f"full: {ds.version}")
    c4.metric("FERPlus votes", "attached" if ds.votes is not None else "—")
    st.caption(f"Source: `{ds.source}` · splits: " + ", ".join(f"{s} {int((ds.splits == s).sum()):,}" for s in ds.split_names))
if source.path != "demo" and (hint := describe_missing_data()):  # the demo's banner already says how
    st.info(hint)

default = default_run()
if default:
    st.subheader("Default model")
    model_card(default)

st.subheader("Models")
runs = list_runs()
if runs:
    st.dataframe([{"run": r.id, "architecture": r.architecture, "data version": r.data_version or "?",
                   "test accuracy": percent(r.metrics.get("test", {}).get("accuracy")),
                   "status": f"broken: {r.problem}" if r.broken else r.record.status or "?"} for r in runs],
                 hide_index=True)
else:
    st.write("No saved runs under `models/` yet.")
