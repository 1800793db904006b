import uuid

import numpy as np
import streamlit as st

from fer_core.app.charts import bar_figure, confusion_figure, votes_figure
from fer_core.errors import FerStudioError
from fer_core.data.ferplus import VOTE_COLUMNS
from fer_core.app.imaging import upscale
from fer_core.jobs.store import JobStore
from fer_core.models import ARCHITECTURES
from fer_core.relabel.oof import list_oof, oof_data_version
from fer_core.relabel.project import KEYS, QueueFilter, RelabelProject, projects_dir
from fer_core.relabel.label_queue import LabelQueue
from fer_core.relabel.review import PAGE_SIZES, ReviewSession
from fer_core.relabel.suggest import Thresholds
from fer_core.app.review_grid import review_grid
from fer_core.app.suggestions import suggestions_for
from fer_core.relabel import background, loop
from fer_core.runs.store import default_run, usable_runs
from fer_core.data.schemes import UNMAPPED
from fer_core.training.config import TrainConfig
from fer_core.app.ui import broken_runs_notice, cached_quality, dataset_picker, demo_banner, show_error
from fer_core.user_paths import readable_path, writable_folder
from fer_core.app.auth import signed_in_user
from fer_core.app.team_view import export_sources_table, review_view, team_view
from fer_core.relabel.roles import Actor, actor_for

st.title("Relabel")

ds = dataset_picker(key="relabel")
if ds is None:
    st.stop()
annotator = signed_in_user()  # team mode: the login is the annotator, nobody labels under another's name
if annotator:
    st.sidebar.caption(f"Annotator: **{annotator}** (your login)")
else:
    if "annotator" not in st.session_state:  # a reload keeps the name: it rides in the page's address
        st.session_state["annotator"] = str(st.query_params.get("annotator", ""))[:64]
    annotator = st.sidebar.text_input("Your name (annotator)", key="annotator", max_chars=64).strip()
    if annotator and st.query_params.get("annotator") != annotator:
        st.query_params["annotator"] = annotator
project_name = st.sidebar.text_input("Project", value="fer2024", key="project_name").strip() or "fer2024"
state = st.session_state
state.setdefault("session_id", uuid.uuid4().hex[:8])

@st.cache_resource(max_entries=4)
def open_project(name: str, version: str, folder: str, _ds) -> RelabelProject:
    """One project object per (name, data version, folder): opening it creates the schema and the id index,
    which need not be redone on every keypress rerun. The store itself opens a connection per call."""
    return RelabelProject(name, _ds)


try:
    project = open_project(project_name, ds.version, str(projects_dir()), ds)
except FerStudioError as exc:
    show_error(exc, "Cannot open the project.")
    st.stop()
demo_banner(ds)
if project.version_mismatch:
    st.warning("This project was started on a different version of the dataset; image ids may not match.")

with st.sidebar.expander("Queue", expanded=True):
    classes = st.multiselect("Original class", list(ds.class_names), key="q_classes")
    split = st.selectbox("Split", ["All"] + ds.split_names, key="q_split")
    unlabelled = st.checkbox("Unlabelled by me only", True, key="q_unlabelled")
    disagree = st.checkbox("FER2013 ≠ FERPlus majority", key="q_disagree", disabled=ds.votes is None)
    dup_leaks = st.checkbox("Duplicates and leaks", key="q_dups")
    picked = state.get("map_selection")
    only_rows = None
    if picked and picked.get("version") == ds.version:  # ids, as the Dataset page's map selected them
        if st.checkbox(f"Only the {len(picked['ids']):,} images selected on the Dataset map", True, key="q_map"):
            only_rows = np.flatnonzero(project.mask_of(picked["ids"]))
    runs = {r.id: r for r in usable_runs()}
    broken_runs_notice()
    own = [r for r in runs.values() if r.data_version == ds.version]  # ranking needs the run's own training data
    oofs = [f for f in list_oof() if oof_data_version(f) == ds.version]
    rank_options = ["(none)"] + [f"out-of-fold: {f.stem}" for f in oofs] + [f"run: {r.id}" for r in own]
    rank_run = st.selectbox("Rank by likely label error", rank_options, key="q_rank",
                            help="Out-of-fold probabilities (computed below) are the honest choice; a run's own "
                                 "predictions on its training images are optimistic.")
    predict_run = st.selectbox("Show a model's prediction", ["(none)"] + list(runs), key="q_predict")
    order = st.selectbox("Order", ["smart", "dataset"], key="q_order",
                         format_func={"smart": "Smart: disagreements and unsure first", "dataset": "Dataset order"}.get,
                     help="Smart: your grid exceptions first, then images where the FERPlus votes and the model "
                          "disagree, then the least certain; images a grid page can settle come last. A ranking by "
                          "likely label error, when chosen above, takes precedence.")
    with st.expander("Compute out-of-fold probabilities"):
        oof_arch = st.selectbox("Architecture", list(ARCHITECTURES), index=list(ARCHITECTURES).index("cnn004"),
                                key="oof_arch")
        oof_folds = st.number_input("Folds", 2, 10, 5, key="oof_folds")
        oof_epochs = st.number_input("Epochs per fold", 1, 200, 15, key="oof_epochs")
        if st.button("Start k-fold job", key="oof_start"):
            job = JobStore().submit(TrainConfig(architecture=oof_arch, data=ds.source, epochs=int(oof_epochs),
                                                run_name="oof"), oof_folds=int(oof_folds))
            st.success(f"Queued {job}; follow it on the Train page. The ranking appears here when it is done.")

loop_rounds = loop.rounds(project)
with st.sidebar.expander("Suggestions", expanded=False):
    default = default_run()
    model_options = (["(none)"] + [f"loop: {r['path'].stem}" for r in reversed(loop_rounds)]
                     + [f"out-of-fold: {f.stem}" for f in oofs] + list(runs))
    if state.get("next_model") in model_options:  # a learning round just finished: it suggests from now on
        state["s_model"] = state.pop("next_model")
    model_index = model_options.index(default.id) if default is not None and default.id in runs else 0
    suggest_from = st.selectbox("Model", model_options, index=model_index, key="s_model",
                                help="Its probabilities suggest a label for every image (computed once in the "
                                     "background and cached); FERPlus votes are used when attached.")
    min_share = st.slider("Grid: votes for the top class at least", 0.3, 1.0, Thresholds.min_votes_share, 0.05,
                          key="s_share", disabled=ds.votes is None,
                          help="An image is offered on a grid page when this share of its FERPlus votes names one class.")
    need_agree = st.checkbox("Grid: only where the model agrees with the votes", Thresholds.require_agreement,
                             key="s_agree", disabled=ds.votes is None)
    min_prob = st.slider("Grid without votes: model probability at least", 0.1, 1.0, Thresholds.min_model_prob, 0.05,
                         key="s_prob")
    page_size = st.select_slider("Grid page size", PAGE_SIZES, value=48, key="s_page")
    feature_run = runs.get(suggest_from) or (default if default is not None and default.id in runs else None) \
        or next(iter(runs.values()), None)
    learn_clicked = st.button("Learn from my labels (new round)", key="loop_start", disabled=feature_run is None,
                              use_container_width=True,
                              help="A background job fits a model on the labels you gave so far (on the features of "
                                   f"{feature_run.id if feature_run else 'a saved run'}), then suggests for every "
                                   "image again; the queue and the grid follow. Progress shows, per round, how often "
                                   "you overruled its suggestions.")

if not annotator:
    st.info("Type your name in the sidebar to start labelling. Labels are kept per annotator, with full history.")
    st.stop()
# team mode: the login file says what this user may do (checked again in fer_core); alone, you own your projects
try:
    actor = actor_for(annotator) if signed_in_user() else Actor.operator(annotator)
    team_settings = project.team.settings  # read on every rerun: an admin on another server may change it
except FerStudioError as exc:
    show_error(exc, "Cannot read the project's team settings.")
    st.stop()
blind = not project.team.shows_others(actor, team_settings)
if signed_in_user():
    st.sidebar.caption(f"Role: **{actor.role}**")
if team_settings.k > 1:
    st.sidebar.caption(f"Team queue: images that need {team_settings.k} labels are handed out to annotators; the "
                       "queue filters above apply to the other views." + (" Blind labelling is on." if blind else ""))


@st.cache_resource(show_spinner="Ranking images by likely label error…", max_entries=2)
def ranking_from_oof(path: str, version: str, _project):
    from fer_core.relabel.label_issues import rank_by_oof
    return rank_by_oof(path, _project)


@st.cache_resource(show_spinner="Ranking images by likely label error…", max_entries=2)
def ranking_for(run_id: str, version: str, _ds):
    from fer_core.relabel.label_issues import rank_by_run
    return rank_by_run(runs[run_id], _ds)


@st.cache_resource(show_spinner="Loading model…", max_entries=2)
def model_for(run_path: str):
    from fer_core.api import FER
    return FER(run_path, detector=None)  # the images are face crops


ranking = None
if rank_run.startswith("out-of-fold: "):
    ranking, n_flagged = ranking_from_oof(str(oofs[rank_options.index(rank_run) - 1]), ds.version, project)
    st.sidebar.caption(f"{n_flagged:,} images flagged as likely label errors (listed first).")
elif rank_run.startswith("run: "):
    ranking, n_flagged = ranking_for(rank_run[5:], ds.version, ds)
    st.sidebar.caption(f"{n_flagged:,} images flagged as likely label errors (listed first). Predictions on the run's "
                       "own training images are optimistic; out-of-fold probabilities are better.")

loop_key = f"loop:{project.name}:{ds.version}:{annotator}"
if learn_clicked and feature_run is not None:
    background.forget(loop_key)
    background.submit(loop_key, loop.learn, project, feature_run, annotator)
learning = background.get(loop_key)
if learning is not None and learning.done():
    background.forget(loop_key)
    if learning.exception() is not None:  # any other exception shows only its kind: no internals to clients
        show_error(learning.exception(), "The learning round did not finish.")
    else:
        state.next_model = f"loop: {learning.result().stem}"
        state.loop_msg = f"Round {learning.result().stem[6:].lstrip('0')} is ready: suggestions and queue follow it."
        st.rerun()
if state.get("loop_msg"):
    st.success(state.pop("loop_msg"))

suggestions, pending = suggestions_for(ds, project.target.name, suggest_from, runs, oofs, loop_rounds)
review_key = (project.name, ds.version, annotator)
if state.get("review_key") != review_key:
    state.review_key, state.review = review_key, ReviewSession(project, annotator, state.session_id, suggestions)
    state.labelling, state.scope_sig = LabelQueue(), None  # the new session's scope is set below
review: ReviewSession = state.review
lq: LabelQueue = state.labelling  # this tab's queue, position and last messages (fer_core.relabel.label_queue)
review.suggestions = suggestions
review.thresholds = Thresholds(min_share, need_agree, min_prob)
quality = cached_quality(ds.source, ds.version, ds) if dup_leaks else None
selection_sig = None if only_rows is None else (len(only_rows), int(only_rows.sum()))
scope_sig = (ds.version, tuple(classes), split, disagree, dup_leaks, selection_sig)
if state.get("scope_sig") != scope_sig:
    scope = np.zeros(len(ds), bool)
    scope[project.queue(QueueFilter(tuple(classes), split, False, disagree, dup_leaks, only_rows=only_rows),
                        annotator, quality)] = True
    review.scope, state.scope_sig = scope, scope_sig
if pending:
    st.caption(f"Model suggestions from {suggest_from[:40]} are being computed in the background; "
               "the votes are used until they are ready.")
if learning is not None and not learning.done():
    st.caption("A learning round runs in the background (seconds once the image features are on disk); the "
               "suggestions and the queue follow it when it is done.")
if pending or (learning is not None and not learning.done()):
    @st.fragment(run_every=2)
    def _wait_for_background():
        job = background.get(loop_key)
        if (job is None or job.done()) and not suggestions_for(ds, project.target.name, suggest_from, runs, oofs,
                                                               loop_rounds)[1]:
            st.rerun(scope="app")
    _wait_for_background()

signature = (project.name, ds.version, annotator, tuple(classes), split, unlabelled, disagree, dup_leaks, rank_run,
             order, suggestions.sources, review.thresholds, lq.grid_version, selection_sig, team_settings.k)


def build_queue():
    if team_settings.k > 1:  # claimed for this annotator, so k labels per image and no more
        return project.team.next_rows(actor, 20)
    order_rows = review.smart_order() if ranking is None and order == "smart" else ranking
    return project.queue(QueueFilter(tuple(classes), split, unlabelled, disagree, dup_leaks, order_rows, only_rows),
                         annotator, quality)


try:
    lq.follow(signature, build_queue)
except FerStudioError as exc:
    show_error(exc, "Cannot build the queue.")
    st.stop()
queue, pos = lq.rows, lq.pos


def accept_grid():
    value = (state.get("review_grid") or {}).get("accept") or {}
    lq.accept_grid(review, state.get("grid_page"), value, project.target.classes)


if lq.error is not None:
    show_error(lq.error, "Label not saved.")
    lq.error = None

# One view at a time (not tabs): tabs render every tab's widgets, so the label keys would stay live on the
# other tabs and label an image the user cannot see.
views = ["Label", "Grid", "Progress", "Agreement", "Team"] + (["Review"] if actor.can("review") else []) \
    + ["Export / import"]
view = st.radio("View", views, horizontal=True, key="relabel_view", label_visibility="collapsed")

if view == "Label":
    if not len(queue):
        st.success("This queue is empty: nothing left to label with these filters.")
        st.button("Grid review (G)", key="label_to_grid", shortcut="G", on_click=lambda: state.update(relabel_view="Grid"))
    else:
        row = int(queue[pos])
        mine = project.label_for(row, annotator)
        left, right = st.columns([1, 1])
        with left:
            st.image(upscale(ds.images[row], 336), caption=f"#{ds.ids[row]} · {ds.splits[row]} · {pos + 1} of {len(queue):,}")
        with right:
            orig = ds.class_names[ds.labels[row]] if ds.labels[row] != UNMAPPED else "—"
            st.markdown(f"Original label: **{orig}**" + (f" · yours: **{project.target.classes[mine]}** ✓"
                                                          if mine is not None else ""))
            if lq.last_saved:
                st.caption(lq.last_saved)
            if blind:
                st.caption("Blind labelling: votes, suggestions and other annotators' labels are hidden.")
            if ds.votes is not None and not blind:
                st.plotly_chart(votes_figure(ds.votes[row], VOTE_COLUMNS), key="votes")
            if predict_run != "(none)" and not blind:
                clf = model_for(str(runs[predict_run].path))
                probs = clf.classify(ds.images[row][None])[0]
                top = np.argsort(-probs)[:3]
                st.markdown(f"Model `{predict_run[:40]}`: " + ", ".join(
                    f"**{clf.class_names[k]}** {probs[k]:.0%}" if i == 0 else f"{clf.class_names[k]} {probs[k]:.0%}"
                    for i, k in enumerate(top)))
            if ranking is not None:
                st.caption(f"Ranked queue by {rank_run}: position {pos + 1} is among the likeliest label errors.")
        cols = st.columns(5)
        for j, name in enumerate(project.target.classes):
            cols[j % 5].button(name, key=f"lab_{j}", shortcut=KEYS[j], on_click=lq.assign,
                               args=(project, annotator, j, state.session_id),
                               type="primary" if mine == j else "secondary", use_container_width=True)
        n1, n2, n3, n4 = st.columns(4)
        n1.button("← Back", key="nav_back", shortcut="Left", on_click=lq.navigate, args=(-1,), use_container_width=True)
        n2.button("Skip", key="nav_skip", shortcut="S", on_click=lq.skip, args=(review,), use_container_width=True)
        n3.button("Undo", key="nav_undo", shortcut="U", on_click=lq.undo, args=(review, ds.ids), use_container_width=True)
        n4.button("Forward →", key="nav_fwd", shortcut="Right", on_click=lq.navigate, args=(1,), use_container_width=True)
        st.button("Grid review (G)", key="label_to_grid", shortcut="G", on_click=lambda: state.update(relabel_view="Grid"))
        st.caption("Keys: 1–9, 0 = the ten classes · U undo · S skip · ←/→ back/forward · G grid review. Each label "
                   "is committed to the project database before it is shown as saved.")

if view == "Grid" and (blind or team_settings.k > 1):
    st.info("Grid review accepts suggestions, which blind labelling hides; the Label view takes images one at a time."
            if blind else f"This project asks for {team_settings.k} labels per image: the Label view hands each "
            "annotator the images that still need one (a grid page would label past k).")
elif view == "Grid":
    eligible = review.eligible()
    counts = review.grid_counts(eligible)
    if lq.message:
        st.caption(lq.message)
        lq.message = None
    if not counts:
        st.info("No open image has a suggestion strong enough for a grid page with these filters and thresholds "
                "(sidebar: Suggestions). The Label view takes the rest one at a time.")
        b1, b2 = st.columns(2)
        b1.button("Undo last step (U)", key="grid_undo", shortcut="U", on_click=lq.undo, args=(review, ds.ids),
                  use_container_width=True)
        b2.button("One at a time (L)", key="grid_to_label", shortcut="L", use_container_width=True,
                  on_click=lambda: state.update(relabel_view="Label"))
    else:
        names = project.target.classes
        top, info = st.columns([1, 2])
        label = top.selectbox("Suggested class", list(counts), key="grid_class",
                              format_func=lambda k: f"{names[k]} ({counts[k]:,} open)")
        page = review.grid_page(label, page_size, eligible)
        state.grid_page = page
        info.caption(f"{len(page)} faces suggested as **{names[page.label]}** ({' + '.join(suggestions.sources)}), most certain "
                     "first. Mark the exceptions (click, or arrows + Space/X), then Enter accepts the rest; the "
                     "exceptions go to the Label view. U undoes the last page. A face you already labelled is "
                     "never overwritten.")
        state.grid_renders = state.get("grid_renders", 0) + 1
        review_grid("review_grid", page, ds, suggestions, names, on_accept=accept_grid, render=state.grid_renders)
        b1, b2 = st.columns(2)
        b1.button("Undo last page (U)", key="grid_undo", shortcut="U", on_click=lq.undo, args=(review, ds.ids),
                  use_container_width=True)
        waiting = len(review.exceptions)
        b2.button(f"One at a time (L): {waiting} exceptions first" if waiting else "One at a time (L)",
                  key="grid_to_label", shortcut="L", on_click=lambda: state.update(relabel_view="Label"),
                  use_container_width=True)

if view == "Progress":
    p = project.progress(annotator, queue)
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("This queue", f"{p['queue_labelled']:,} / {p['queue_total']:,}")
    c2.metric("Labelled by you", f"{p['mine']:,}")
    c3.metric("Images labelled by anyone", f"{p['images_labelled_by_anyone']:,} / {p['total']:,}")
    rate = p["labels_per_hour"]
    c4.metric("Your labels per hour", "—" if rate is None else f"{rate:.0f}",
              help=None if rate is not None else "Shown after 20 labels and 2 minutes of labelling.")
    st.progress(p["queue_labelled"] / max(p["queue_total"], 1))
    routes = review.routes()
    st.markdown(f"**How the {routes['in_scope']:,} images in scope were settled by you**")
    r1, r2, r3, r4, r5 = st.columns(5)
    r1.metric("Grid-accepted", f"{routes['grid']:,}")
    r2.metric("One by one", f"{routes['single']:,}")
    r3.metric("Skipped", f"{routes['skipped']:,}")
    r4.metric("Imported", f"{routes['import']:,}")
    r5.metric("Still open", f"{routes['open']:,}", help=f"{routes['exceptions_waiting']:,} are grid exceptions "
              "waiting in the Label view")
    if feature_run is not None and loop_rounds:
        from fer_core.relabel.suggest import model_distribution
        st.markdown("**Active-learning rounds**: how often your one-by-one labels overruled the model suggestion "
                    f"in force (round 0: {feature_run.id[:40]} itself)")
        table = loop.overrules(project, annotator, model_distribution(feature_run, ds, project.target.name))
        by_round = {r["round"]: r for r in loop_rounds}
        st.dataframe([{"round": t["round"], "trained on labels": by_round.get(t["round"], {}).get("labels"),
                       "your labels": t["labels"], "overruled": t["overruled"],
                       "overrule rate": None if t["rate"] is None else f"{t['rate']:.0%}"} for t in table],
                     hide_index=True)
    if routes["left_by_suggestion"]:
        st.dataframe([{"suggested": k, "open": v["open"], "a grid page can take": v["grid"]}
                      for k, v in sorted(routes["left_by_suggestion"].items(), key=lambda kv: -kv[1]["open"])],
                     hide_index=True)
    if p["per_class"]:
        st.plotly_chart(bar_figure(p["per_class"], p["per_class"].values(), "new label", "images"), key="per_class")
    tm = project.transition_matrix(annotator if blind else None)  # blind: others' labels stay hidden
    st.plotly_chart(confusion_figure(tm.to_numpy(), list(tm.index), list(tm.columns),
                                     "Original label → new label" + (" (yours)" if blind else " (all annotators)"),
                                     "original", "new"), key="transition")

if view == "Agreement":
    ag = project.agreement()
    if blind and not actor.can("review"):
        st.info("Blind labelling: agreement between annotators is shown to reviewers and admins.")
    elif ag["images_with_2plus"] == 0:
        st.info("Agreement appears once two or more annotators have labelled the same images.")
    else:
        st.write(f"{ag['images_with_2plus']:,} images labelled by 2+ annotators; Fleiss' κ = {ag['fleiss']:.3f}")
        st.dataframe([{"pair": k, "Cohen's κ": v["kappa"], "images": v["n"]} for k, v in ag["pairwise_cohen"].items()],
                     hide_index=True)
        st.markdown(f"**Disagreements to resolve** ({len(ag['disagreements']):,})")
        st.dataframe(ag["disagreements"], hide_index=True)

if view in ("Team", "Review"):
    try:
        (team_view if view == "Team" else review_view)(project, actor)
    except FerStudioError as exc:  # e.g. the team's database went away: say so, keep the page
        show_error(exc)

if view == "Export / import":
    if not actor.can("export"):
        st.info("Only an admin exports or imports labels.")
        st.stop()
    folder = st.text_input("Export folder", str(projects_dir() / "exports" / project.name), key="export_dir")
    policy = st.radio("Labels", ["resolved", "majority", "annotator"], horizontal=True, key="export_policy",
                      format_func={"resolved": "reviewer's decision, else consensus, else the single label",
                                   "majority": "strict majority of annotators",
                                   "annotator": f"only {annotator}'s"}.get)
    images = st.checkbox("Also write split/<class>/<id>.png", True, key="export_images")
    if st.button("Export FER2024 dataset", key="export_btn"):
        try:
            path = project.export(writable_folder(folder), policy, annotator, images, actor=actor)
            st.success(f"Exported `{path}` (+ `.meta.json`). Train on it: choose 'Other path…' on the Train page "
                       "and type this path (the scheme follows, and without PublicTest rows a seeded 10% of the "
                       f"Training rows is held out for validation), or `python -m fer_core data info {path}`.")
            if policy == "resolved":
                export_sources_table(path, project.target.classes)
        except FerStudioError as exc:  # a folder that cannot be written is a StoreError from project.export
            show_error(exc, "Export failed.")
    path = st.text_input("Import a previous export (CSV path)", key="import_path")
    if st.button("Import", key="import_btn") and path:
        try:
            added = project.import_export(readable_path(path), actor=actor)
            if added:
                st.success(f"Imported {added:,} new or changed labels.")
            else:
                st.info("Nothing new: every label in this export is already in the project (imported before).")
        except FerStudioError as exc:
            show_error(exc)
