"""`python -m fer_core relabel ...`: the Relabel page's suggestions, learning rounds, team settings, consensus,
review queue and export from a terminal, and `migrate` to copy a SQLite project onto a PostgreSQL server.
The CLI acts as the operator (admin role): it runs with direct access to the files or the database."""
from __future__ import annotations

import argparse
import sys

from fer_core.errors import ConfigError
from fer_core.relabel.suggest import Thresholds


def review_session(args):
    """The project, run and ReviewSession the relabel commands work on (as the Relabel page builds them)."""
    from fer_core.data.loading import load_dataset
    from fer_core.relabel.project import RelabelProject
    from fer_core.relabel.review import ReviewSession
    from fer_core.relabel.suggest import suggestions
    from fer_core.runs.run import Run
    from fer_core.runs.store import default_run
    ds = load_dataset(args.path)
    project = RelabelProject(args.project, ds)
    run = None if args.model == "none" else (Run.load(args.model).require_usable() if args.model else default_run())
    s = suggestions(ds, project.target.name, run)
    t = Thresholds(args.min_votes, args.agree, args.min_prob)
    return project, run, ReviewSession(project, args.annotator or "", "cli", s, t)


def suggest(args) -> dict:
    project, run, review = review_session(args)
    names = project.target.classes
    routes = review.routes()
    return {"dataset": project.ds.name, "version": project.ds.version, "sources": list(review.suggestions.sources),
            "thresholds": vars(review.thresholds), "open": routes["open"],
            "grid_ready": {names[k]: n for k, n in review.grid_counts().items()},
            "sources_disagree": int(review.suggestions.disagree.sum()),
            "settled": {k: routes[k] for k in ("grid", "single", "import", "skipped")}}


def learn(args) -> dict:
    from fer_core.relabel import loop
    from fer_core.relabel.suggest import model_distribution
    project, run, _ = review_session(args)
    if run is None:
        raise ConfigError("a learning round needs a saved run for its image features", fix="leave out --model none")
    path = loop.learn(project, run, args.annotator, progress=lambda text: print(text, file=sys.stderr))
    rates = (loop.overrules(project, args.annotator, model_distribution(run, project.ds, project.target.name))
             if args.annotator else [])
    return {"round_file": str(path), "rounds": len(loop.rounds(project)), "overrules": rates}



def _project(args):
    from fer_core.data.loading import load_dataset
    from fer_core.relabel.project import RelabelProject
    return RelabelProject(args.project, load_dataset(args.path))


def migrate(args) -> dict:
    """Copy a SQLite project into PostgreSQL and verify that every row arrived."""
    from pathlib import Path

    from fer_core.relabel.database import PostgresDatabase, redact
    from fer_core.relabel.project import projects_dir, safe_name
    from fer_core.relabel.store import LabelStore
    name = safe_name(args.project)
    source_path = Path(args.source) if args.source else projects_dir() / f"{name}.sqlite"
    if not source_path.is_file():
        raise ConfigError("no SQLite project to copy", fix=f"expected {source_path}; name it with --from FILE")
    if not args.to.startswith(("postgresql://", "postgres://")):
        raise ConfigError("--to must be a postgresql:// URL")
    source = LabelStore(source_path)  # upgraded to the current schema first, in place
    counts = source.copy_to(LabelStore(PostgresDatabase(args.to, name)))
    return {"project": name, "from": str(source_path), "to": redact(args.to), "rows": counts, "verified": True,
            "note": f"use it with FER_DATABASE_URL={redact(args.to)}"}


def team(args) -> dict:
    from dataclasses import asdict

    from fer_core.relabel.roles import Actor
    project = _project(args)
    changes = {k: v for k, v in (("k", args.k), ("blind", args.blind), ("review_threshold", args.review_threshold),
                                 ("method", args.method), ("include_ferplus", args.ferplus)) if v is not None}
    settings = project.team.configure(Actor.operator(), **changes) if changes else project.team.settings
    return {"project": project.name, "settings": asdict(settings), "progress": project.team.progress()}


def consensus_report(args) -> dict:
    """Consensus of the project's team labels by both methods, how often they disagree, annotator quality;
    with --ferplus-only, the same on FERPlus' own votes (no team labels needed)."""
    import numpy as np

    from fer_core.data import consensus as cons
    project = _project(args)
    if args.ferplus_only:
        ds = project.ds
        if ds.votes is None:
            raise ConfigError("this dataset has no FERPlus votes", fix="put fer2013new.csv beside the FER2013 CSV")
        from fer_core.data.ferplus import UNKNOWN, labels_from_votes
        ds_labels, mv_labels = labels_from_votes(ds.votes, "dawid-skene"), labels_from_votes(ds.votes, "majority")
        both = (ds_labels < UNKNOWN) & (mv_labels < UNKNOWN)
        return {"images": len(ds), "majority_unknown": int((mv_labels >= UNKNOWN).sum()),
                "dawid_skene_unknown": int((ds_labels >= UNKNOWN).sum()),
                "differ": int((ds_labels != mv_labels).sum()), "differ_share": float((ds_labels != mv_labels).mean()),
                "both_labelled": int(both.sum()), "differ_where_both_labelled": int((both & (ds_labels != mv_labels)).sum())}
    table = project.team.labels_table(args.ferplus)
    n = len(project.target.classes)
    ds_table, mv_table = cons.estimate(table, n, "dawid-skene"), cons.estimate(table, n, "majority")
    common = ds_table.index.intersection(mv_table.index)
    quality = cons.annotator_quality(table, ds_table, n)
    return {"images": int(len(ds_table)), "labels": int(len(table)),
            "methods_differ": int((ds_table.loc[common, "label"] != mv_table.loc[common, "label"]).sum()),
            "annotators": {w: {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in q.items()}
                           for w, q in quality.items()}}


def review(args) -> dict:
    from fer_core.relabel.roles import Actor
    project = _project(args)
    if args.decide:
        image_id, _, name = args.decide.partition("=")
        classes = project.target.classes
        if name not in classes:
            raise ConfigError(f"unknown class '{name}'", fix=f"use IMAGE_ID=CLASS with a class of {', '.join(classes)}")
        project.team.decide(image_id, classes.index(name), Actor.operator(args.reviewer), note=args.note)
    queue = project.team.review_queue(Actor.operator(args.reviewer))
    return {"due": int(len(queue)), "images": [
        {"id": i, "consensus": project.target.classes[int(r["label"])], "confidence": round(float(r["confidence"]), 3),
         "labels": {e["annotator"]: e["label"] for e in project.team.labels_of_image(i, Actor.operator())}}
        for i, r in queue.head(args.limit).iterrows()]}


def export(args) -> dict:
    import json

    from fer_core.data.sidecar import sidecar_path
    from fer_core.relabel.roles import Actor
    project = _project(args)
    path = project.export(args.out, args.policy, args.annotator, images=args.images, actor=Actor.operator())
    meta = json.loads(sidecar_path(path).read_text())
    return {"csv": str(path), "images": len(meta["ids"]), "policy": args.policy,
            "sources": meta.get("source_counts")}


def add_relabel_commands(sub) -> None:
    relabel = sub.add_parser("relabel", help="suggestions and learning rounds of a Relabel project").add_subparsers(
        dest="command", required=True)
    for name, func, text in (("suggest", suggest, "suggested labels: what grid pages can settle, per class"),
                             ("learn", learn, "one active-learning round on the project's labels so far")):
        cmd = relabel.add_parser(name, help=text)
        cmd.add_argument("path", help="the project's dataset (as on the Relabel page)")
        cmd.add_argument("--project", default="fer2024")
        cmd.add_argument("--annotator", help="whose labels (learn: default everyone's majority)")
        cmd.add_argument("--model", help="a run folder for model suggestions and features (default: the default "
                                         "model; 'none' for votes only)")
        cmd.add_argument("--min-votes", type=float, default=Thresholds.min_votes_share,
                         help="grid: share of FERPlus votes for the top class")
        cmd.add_argument("--agree", action="store_true", help="grid: the model must agree with the votes")
        cmd.add_argument("--min-prob", type=float, default=Thresholds.min_model_prob,
                         help="grid without votes: model probability")
        cmd.add_argument("--json", action="store_true")
        cmd.set_defaults(func=func)
    cmd = relabel.add_parser("migrate", help="copy a SQLite project into PostgreSQL and verify the row counts")
    cmd.add_argument("--project", default="fer2024")
    cmd.add_argument("--from", dest="source", help="the project's .sqlite file (default: the projects folder's)")
    cmd.add_argument("--to", required=True, help="postgresql://user:password@host:port/database")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(func=migrate)
    for name, func, text in (("team", team, "show or change team settings: k labels per image, blind, review"),
                             ("consensus", consensus_report, "consensus by Dawid–Skene and majority; annotator quality"),
                             ("review", review, "images waiting for a reviewer; --decide ID=CLASS settles one"),
                             ("export", export, "write the project's labels as a FER CSV (+ class folders)")):
        cmd = relabel.add_parser(name, help=text)
        cmd.add_argument("path", help="the project's dataset (as on the Relabel page)")
        cmd.add_argument("--project", default="fer2024")
        cmd.add_argument("--json", action="store_true")
        cmd.set_defaults(func=func)
        if name == "team":
            cmd.add_argument("--k", type=int, help="labels wanted per image (1-10)")
            cmd.add_argument("--blind", action=argparse.BooleanOptionalAction, default=None)
            cmd.add_argument("--review-threshold", type=float, help="consensus confidence below which images go to review")
            cmd.add_argument("--method", choices=["dawid-skene", "majority"])
            cmd.add_argument("--ferplus", action=argparse.BooleanOptionalAction, default=None,
                             help="FERPlus votes join the consensus as a crowd")
        elif name == "consensus":
            cmd.add_argument("--ferplus", action="store_true", help="include FERPlus' votes as a crowd")
            cmd.add_argument("--ferplus-only", action="store_true", help="report on FERPlus' own votes only")
        elif name == "review":
            cmd.add_argument("--reviewer", default="operator")
            cmd.add_argument("--decide", metavar="ID=CLASS")
            cmd.add_argument("--note")
            cmd.add_argument("--limit", type=int, default=20)
        else:
            cmd.add_argument("--out", required=True, help="folder to write")
            cmd.add_argument("--policy", default="resolved", choices=["resolved", "majority", "annotator"])
            cmd.add_argument("--annotator")
            cmd.add_argument("--images", action="store_true", help="also write <split>/<class>/<id>.png")
