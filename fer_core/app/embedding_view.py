"""The Dataset page's "Map and neighbours" tab: a 2-D map of a model's features (box/lasso selection opens the
images on the Relabel page), similar images for any image, and near-duplicate groups."""
from __future__ import annotations

import time

import numpy as np
import streamlit as st

from fer_core.app.charts import embedding_figure
from fer_core.app.imaging import image_strip_html, upscale
from fer_core.app.ui import show_error
from fer_core.data.ferplus import votes_labels
from fer_core.data.schemes import UNMAPPED
from fer_core.relabel import background
from fer_core.relabel.embeddings import (
    cached_layout,
    features,
    groups_from_pairs,
    layout,
    near_duplicate_pairs,
    phash,
    similar,
)
from fer_core.runs.store import default_run, usable_runs

NEAR_BITS, NEAR_DIST = 10, 0.03  # see bench/near_duplicates.py for the precision these give on FER2013


@st.cache_resource(max_entries=2)
def _features(run_id: str, mtime: int, version: str, _run, _ds):
    return features(_run, _ds)


@st.cache_resource(max_entries=2)
def _near_duplicates(run_id: str, mtime: int, version: str, _run, _ds):
    pairs = near_duplicate_pairs(phash(_ds.images), _features(run_id, mtime, version, _run, _ds), NEAR_BITS, NEAR_DIST)
    return groups_from_pairs(pairs, len(_ds))


def _colours(base, ds, by: str) -> np.ndarray:
    if by == "split":
        return base.splits
    if by == "FERPlus disagreement" and base.votes is not None:
        fp = votes_labels(base, "majority", base.scheme)
        return np.where(fp == UNMAPPED, "no FERPlus majority", np.where(fp == base.labels, "agree", "disagree"))
    if by == "relabel status":
        from fer_core.relabel.project import projects_dir
        from fer_core.relabel.store import LabelStore
        path = projects_dir() / "fer2024.sqlite"
        done = {i for i, _ in LabelStore(path).current()} if path.exists() else set()
        return np.where(np.isin(base.ids, np.asarray(list(done), dtype=base.ids.dtype)), "relabelled", "not yet")
    names = np.array(list(ds.class_names) + ["(unmapped)"])
    return names[np.where(ds.labels == UNMAPPED, len(ds.class_names), ds.labels)]


def embedding_view(base, ds, split: str) -> None:
    runs = {r.id: r for r in usable_runs()}
    if not runs:
        st.info("The map uses a saved model's features: train one on the Train page (or keep the shipped default).")
        return
    default = default_run()
    ids = list(runs)
    run = runs[st.selectbox("Features from", ids, index=ids.index(default.id) if default and default.id in runs else 0,
                            key="map_run")]
    key = f"map:{base.version}:{run.id}:{run.model_mtime}"
    xy = cached_layout(run, base)
    if xy is None:
        job = background.get(key)
        if job is not None and job.done() and job.exception() is not None:
            show_error(job.exception(), "The map could not be built.")
            background.forget(key)
        elif job is not None:
            st.caption("Building the map in the background (image features, then UMAP; about a minute for FER2013).")

            @st.fragment(run_every=2)
            def _wait():
                if background.get(key) is None or background.get(key).done():
                    st.rerun(scope="app")
            _wait()
        else:
            method = "PCA" if len(base) <= 3000 else "UMAP"
            if st.button(f"Build the map of {len(base):,} images ({method} of {run.id[:40]}'s features)",
                         key="map_build"):
                background.submit(key, layout, run, base)
                st.rerun()
        return
    _map(base, ds, split, run, xy)
    _similar(base, run)
    _near_duplicates_view(base, ds, run)


@st.fragment
def _map(base, ds, split, run, xy) -> None:
    """A fragment: colouring and selecting rerun this part, not the Dataset page's other tabs."""
    by = st.radio("Colour by", ["label", "split", "FERPlus disagreement", "relabel status"], horizontal=True,
                  key="map_colour")
    shown = np.arange(len(base)) if split == "All" else np.flatnonzero(base.splits == split)
    event = st.plotly_chart(embedding_figure(xy[shown], _colours(base, ds, by)[shown],
                                             f"{len(shown):,} images, features of {run.id}"),
                            key="map_chart", on_select="rerun", selection_mode=("box", "lasso"))
    points = (event or {}).get("selection", {}).get("points", []) if isinstance(event, dict) else \
        getattr(getattr(event, "selection", None), "points", []) or []
    picked = shown[[int(p["customdata"]) for p in points if "customdata" in p]] if points else np.array([], int)
    if len(picked):
        st.markdown(f"**{len(picked):,} images selected**")
        st.image([upscale(base.images[r], 72) for r in picked[:24]], width=72,
                 caption=[f"#{base.ids[r]}" for r in picked[:24]])
        if st.button(f"Open these {len(picked):,} in Relabel (grid and queue)", key="map_open"):
            st.session_state["map_selection"] = {"version": base.version, "ids": base.ids[picked].tolist()}
            st.session_state["relabel_view"] = "Grid"  # Relabel opens on its grid of the selection
            st.switch_page("app_pages/2_Relabel.py")
    else:
        st.caption("Drag a box or lasso on the map to select images; they open on the Relabel page.")


@st.fragment
def _similar(base, run) -> None:
    st.markdown("**Similar images**")
    feats = _features(run.id, run.model_mtime, base.version, run, base)
    typed = st.text_input("Image id", value=str(base.ids[0]), key="map_similar")
    hits = np.flatnonzero(base.ids == typed.strip().lstrip("#"))
    if not len(hits):
        st.warning(f"No image with id '{typed[:40]}' in this dataset.")
        return
    t = time.perf_counter()
    near, dist = similar(feats, int(hits[0]), 12)
    took = 1000 * (time.perf_counter() - t)
    rows = [int(hits[0]), *near.tolist()]
    st.html(image_strip_html(base.images[rows], [f"#{base.ids[hits[0]]} (this)"]
                             + [f"#{base.ids[r]} · {d:.3f}" for r, d in zip(near, dist)]))
    st.caption(f"Nearest by cosine distance of the features, found in {took:.0f} ms.")


@st.fragment
def _near_duplicates_view(base, ds, run) -> None:
    st.markdown("**Near-duplicates**")
    if not st.toggle("Find near-duplicate groups", key="map_near"):
        return
    groups = _near_duplicates(run.id, run.model_mtime, base.version, run, base)
    st.caption(f"{len(groups):,} groups: perceptual hashes within {NEAR_BITS} of 64 bits and features within "
               f"cosine distance {NEAR_DIST} (exact copies included; the Data quality tab lists those alone). "
               "On FER2013, 58 of 60 sampled pairs that are not exact copies were judged the same photograph "
               "(bench/embedding_map.py).")
    for g in groups[:10]:
        st.image([upscale(base.images[r], 72) for r in g[:12]], width=72,
                 caption=[f"#{base.ids[r]} {base.splits[r]} · "
                          f"{ds.class_names[ds.labels[r]] if ds.labels[r] != UNMAPPED else '—'}" for r in g[:12]])
