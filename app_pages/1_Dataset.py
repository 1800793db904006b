import numpy as np
import streamlit as st

from fer_core.data.agreement import ferplus_cross_table
from fer_core.app.charts import balance_figure, confusion_figure
from fer_core.app.imaging import upscale
from fer_core.data.label_views import apply_view, label_views
from fer_core.data.report import dataset_facts
from fer_core.data.quality import leak_title
from fer_core.data.schemes import UNMAPPED
from fer_core.data.report import class_balance, class_weight_table
from fer_core.app.ui import cached_quality, dataset_picker, demo_banner
from fer_core.app.embedding_view import embedding_view

st.title("Dataset")

base = dataset_picker()
if base is None:
    st.stop()
views = label_views(base)
view = views[[v.title for v in views].index(st.sidebar.selectbox("Labels / scheme", [v.title for v in views]))]
ds = apply_view(base, view)
split = st.sidebar.selectbox("Split (samples and quality)", ["All"] + ds.split_names)

demo_banner(ds)
facts = dataset_facts(ds)
c1, c2, c3, c4 = st.columns(4)
c1.metric("Images", f"{facts['rows']:,}")
c2.metric("Classes", len(ds.class_names))
c3.metric("Data version", ds.version[:8], help=f"full: {ds.version}")
c4.metric("Unmapped labels", f"{ds.unmapped_count():,}")
st.caption(f"{ds.name} · `{ds.source}` · " + " · ".join(n for n in ds.notes if not ds.is_demo))
if facts["extra_columns"]:
    st.caption("Extra columns: " + "; ".join(f"**{k}** {v}" for k, v in facts["extra_columns"].items()))

tab_balance, tab_samples, tab_quality, tab_agree, tab_map = st.tabs(
    ["Class balance", "Samples", "Data quality", "FER2013 vs FERPlus", "Map and neighbours"], key="dataset_tab",
    on_change="rerun")  # the map's 35,887 points are drawn only while its tab is open

with tab_balance:
    balance = class_balance(ds)
    measure = st.radio("Show", ["count", "percent"], horizontal=True, key="balance_measure")
    st.plotly_chart(balance_figure(balance, measure), key="balance_chart")
    st.markdown("**Class weights** — n_samples / (n_classes · n_j), per split")
    st.dataframe(class_weight_table(ds))
    if ds.unmapped_count():
        st.caption(f"{ds.unmapped_count():,} rows have no counterpart in this scheme and are left out of the bars.")

with tab_samples:
    rows_all = np.arange(len(ds)) if split == "All" else np.flatnonzero(ds.splits == split)
    cls = st.selectbox("Class", list(ds.class_names), key="sample_class")
    rows = rows_all[ds.labels[rows_all] == ds.class_names.index(cls)]
    per_page = 24
    pages = max(1, -(-len(rows) // per_page))
    page = st.number_input(f"Page (of {pages})", min_value=1, max_value=pages, value=1, key="sample_page")
    shown = rows[(page - 1) * per_page: page * per_page]
    st.caption(f"{len(rows):,} images of class '{cls}' in {split}.")
    if len(shown):
        st.image([upscale(ds.images[r], 96) for r in shown], caption=[f"#{ds.ids[r]}" for r in shown], width=96)

with tab_quality:
    report = cached_quality(base.source, base.version, base)
    findings = [{"finding": k, "count": v} for k, v in report.summary().items()]
    # tall enough for every row: no finding hidden behind the table's scroll bar
    st.dataframe(findings, hide_index=True, height=35 * (len(findings) + 1) + 3)

    def gallery(title: str, rows: np.ndarray, limit: int = 24):
        with st.expander(f"{title} ({len(rows):,} rows)"):
            rows = np.asarray(rows, dtype=int)
            if split != "All":
                rows = rows[ds.splits[rows] == split]
            if not len(rows):
                st.write("None in this split.")
                return
            st.image([upscale(ds.images[r], 96) for r in rows[:limit]], width=96,
                     caption=[f"#{ds.ids[r]} {ds.splits[r]} · "
                              f"{ds.class_names[ds.labels[r]] if ds.labels[r] != UNMAPPED else '—'}" for r in rows[:limit]])
            if len(rows) > limit:
                st.caption(f"Showing {limit} of {len(rows):,}.")

    gallery(f"The {len(report.conflicting_duplicates):,} duplicate groups with conflicting labels",
            np.concatenate(report.conflicting_duplicates or [np.array([], int)]))
    for key, rows in report.leaks.items():
        gallery(leak_title(key), rows)
    gallery("Blank images", report.blank)
    gallery("Near-constant images", report.near_constant)
    gallery("All rows that share an image with another row",
            np.concatenate(report.duplicate_groups or [np.array([], int)]))
    if report.ferplus_disagreement is not None:
        gallery("Label differs from the FERPlus majority vote", report.ferplus_disagreement)

with tab_agree:
    if base.votes is None:
        st.info("This dataset has no FERPlus votes. Put fer2013new.csv beside fer2013.csv (or set FER_FERPLUS).")
    else:
        mode = st.radio("FERPlus label", ["majority", "plurality"], horizontal=True, key="agree_mode")
        sub = base if split == "All" else base.split(split)
        table, rows, cols, agreement, n = ferplus_cross_table(sub, mode)
        st.metric("Agreement with FERPlus", f"{agreement:.1%}", help=f"over {n:,} rows whose FERPlus label is one of the shared emotions")
        st.plotly_chart(confusion_figure(table, rows, cols, f"FER2013 label vs FERPlus {mode} ({split})",
                                         "FER2013", "FERPlus"), key="agree_chart")

if tab_map.open:
    with tab_map:
        embedding_view(base, ds, split)
