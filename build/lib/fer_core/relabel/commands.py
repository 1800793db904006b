"""`python -m fer_core relabel suggest|learn`: the Relabel page's suggestions and learning rounds from a terminal."""
from __future__ import annotations

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
