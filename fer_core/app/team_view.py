"""The Relabel page's team views: settings and progress with annotator quality ("Team"), and the reviewers'
queue ("Review"). Layout only: every decision and every role check is in `fer_core.relabel.team`."""
from __future__ import annotations

import time

import streamlit as st

from fer_core.app.charts import confusion_figure
from fer_core.app.imaging import upscale
from fer_core.app.ui import show_error
from fer_core.data.consensus import METHODS
from fer_core.errors import FerStudioError
from fer_core.relabel.roles import Actor
from fer_core.relabel.team import SOURCES


def team_view(project, actor: Actor) -> None:
    team = project.team
    settings = team.settings
    admin = actor.can("settings")
    st.markdown("**Team settings**" + ("" if admin else " (only an admin changes them)"))
    with st.form("team_settings", border=False):
        c1, c2, c3 = st.columns(3)
        k = c1.number_input("Labels per image (k)", 1, 10, settings.k, key="team_k", disabled=not admin,
                            help="With k of 2 or more, each annotator's queue serves images with fewer than k labels "
                                 "that they have not labelled; started images are finished first. With k = 1 the "
                                 "queue filters decide, and annotators may overlap.")
        threshold = c2.slider("Review below confidence", 0.0, 1.0, float(settings.review_threshold), 0.05,
                              key="team_threshold", disabled=not admin,
                              help="Images whose labels disagree, or whose consensus is less sure than this, go to "
                                   "the reviewers' queue.")
        method = c3.selectbox("Consensus", list(METHODS), index=list(METHODS).index(settings.method),
                              format_func=METHODS.get, key="team_method", disabled=not admin)
        blind = st.checkbox("Blind labelling: annotators do not see others' labels or the suggestions", settings.blind,
                            key="team_blind", disabled=not admin)
        ferplus = st.checkbox("FERPlus votes join the consensus as a crowd", settings.include_ferplus,
                              key="team_ferplus", disabled=not admin or project.ds.votes is None)
        if st.form_submit_button("Save team settings", disabled=not admin):
            try:
                team.configure(actor, k=int(k), review_threshold=float(threshold), method=method, blind=blind,
                               include_ferplus=ferplus)
                st.success("Saved: every annotator's queue follows from their next image.")
            except FerStudioError as exc:
                show_error(exc)
    p = team.progress()
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(f"Images with {p['k']} labels", f"{p['with_k_labels']:,} / {p['images']:,}")
    c2.metric("Images started", f"{p['started']:,}")
    c3.metric("Team labels", f"{p['labels']:,}")
    c4.metric("Decided by a reviewer", f"{p['decided']:,}")
    if settings.blind and not actor.can("review"):
        st.caption("Blind mode: annotator quality is shown to reviewers and admins.")
        return
    quality = team.quality(actor)
    if not quality:
        st.info("Annotator quality appears once images have labels from two or more annotators.")
        return
    st.markdown(f"**Annotators** against the {METHODS[settings.method]} consensus, on images someone else "
                "labelled too")
    st.dataframe([{"annotator": w, "labels": q["labels"], "shared": q["shared"],
                   "agreement": None if q["agreement"] is None else f"{q['agreement']:.0%}",
                   "quality (κ)": None if q["kappa"] is None else round(q["kappa"], 3)}
                  for w, q in sorted(quality.items())], hide_index=True)
    who = st.selectbox("Confusion matrix of", sorted(quality), key="team_confusion_of")
    names = list(project.target.classes)
    st.plotly_chart(confusion_figure(quality[who]["confusion"], names, names, f"Consensus → {who}'s label",
                                     "consensus", who), key="team_confusion")


def review_view(project, actor: Actor) -> None:
    if not actor.can("review"):
        st.info("The review queue is for reviewers and admins.")
        return
    state = st.session_state
    queue = project.team.review_queue(actor)
    if state.get("review_msg"):
        st.success(state.pop("review_msg"))
    if queue.empty:
        st.success("Nothing to review: every image with two or more labels agrees, above the confidence threshold, "
                   "or has a decision.")
        return
    image_id = str(queue.index[0])
    row = project.row_of.get(image_id)
    names = project.target.classes
    top = queue.iloc[0]
    st.caption(f"{len(queue):,} image{'s wait' if len(queue) > 1 else ' waits'} for a decision (least confident first).")
    left, right = st.columns([1, 1])
    if row is not None:
        left.image(upscale(project.ds.images[row], 288), caption=f"#{image_id}")
    with right:
        st.markdown(f"Consensus: **{names[int(top['label'])]}** ({top['confidence']:.0%} confident, "
                    f"{int(top['n_labels'])} labels)")
        st.dataframe([{"annotator": e["annotator"], "label": e["label"],
                       "when": time.strftime("%Y-%m-%d %H:%M", time.localtime(e["created"]))}
                      for e in project.team.labels_of_image(image_id, actor)], hide_index=True)
    st.text_input("Note (optional)", key="review_note")

    def decide(label: int):
        try:
            project.team.decide(image_id, label, actor, note=state.get("review_note") or None)
            state.review_msg = f"Decided #{image_id}: **{names[label]}**"
            state.review_note = ""
        except FerStudioError as exc:
            state.review_msg = None
            state.review_error = exc

    cols = st.columns(5)
    for j, name in enumerate(names):
        cols[j % 5].button(name, key=f"decide_{j}", on_click=decide, args=(j,), use_container_width=True)
    if state.get("review_error"):
        show_error(state.pop("review_error"))


def export_sources_table(csv_path, classes, limit: int = 200) -> None:
    """What the 'resolved' export just written took for each image (read back from its CSV and sidecar):
    reviewers' decisions first, then consensus, single labels and imports."""
    import json

    import pandas as pd

    from fer_core.data.sidecar import sidecar_path
    meta = json.loads(sidecar_path(csv_path).read_text())
    sources = meta.get("label_sources") or []
    if not sources:
        return
    table = pd.DataFrame({"image": meta["ids"], "label": pd.read_csv(csv_path, usecols=["emotion"])["emotion"],
                          "source": sources, "reviewer": meta.get("reviewers") or [""] * len(sources)})
    counts = table["source"].value_counts()
    st.markdown("**Where each label came from**: " + ", ".join(f"{counts[s]:,} {s}" for s in SOURCES if s in counts))
    table["label"] = [classes[int(k)] for k in table["label"]]
    shown = table.assign(_order=table["source"].map({s: i for i, s in enumerate(SOURCES)}))
    st.dataframe(shown.sort_values("_order", kind="stable").drop(columns="_order").head(limit), hide_index=True,
                 key="export_sources")
