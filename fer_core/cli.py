"""Command line: `python -m fer_core data info PATH`, `python -m fer_core data check PATH`."""
from __future__ import annotations

import argparse
import json
import sys

from fer_core.data.commands import add_data_commands
from fer_core.data.ferplus import GROUND_TRUTHS
from fer_core.errors import ConfigError, FerStudioError
from fer_core.inference.commands import add_inference_commands
from fer_core.relabel.commands import add_relabel_commands
from fer_core.training.commands import add_training_commands


def format_facts(facts: dict, indent: int = 0) -> str:
    """Plain-text rendering for the terminal."""
    pad = "  " * indent
    lines = []
    for key, value in facts.items():
        if isinstance(value, dict):
            lines.append(f"{pad}{key}:")
            lines.append(format_facts(value, indent + 1))
        elif isinstance(value, list) and value and not isinstance(value[0], (int, str)):
            lines.append(f"{pad}{key}: {value}")
        elif isinstance(value, list):
            lines.append(f"{pad}{key}: {', '.join(map(str, value)) if value else '-'}")
        else:
            lines.append(f"{pad}{key}: {value}")
    return "\n".join(lines)


def _parse_settings(pairs: list[str]) -> dict:
    """--set key=value pairs; values are JSON where they parse (numbers, true, null, lists), else strings."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set expects key=value, got '{pair}'", fix="e.g. --set epochs=120 --set optimizer=sgd")
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


def _train(args) -> dict:
    if args.job_dir:
        from fer_core.jobs.worker import run_job
        raise SystemExit(run_job(args.config, args.job_dir, args.out, args.oof_folds, resume=args.resume,
                                 sweep=args.sweep))
    from fer_core.runs.layout import RECORD
    from fer_core.training.config import TrainConfig
    from fer_core.training.lifecycle import resume, train
    if args.resume:
        run_dir = resume(args.resume)
        return {"run_dir": str(run_dir), **json.loads((run_dir / RECORD).read_text())}
    overrides = {k: v for k, v in (("architecture", args.arch), ("data", args.data), ("epochs", args.epochs),
                                    ("epochs", args.epochs_override), ("max_train_images", args.max_train_images),
                                    ("max_steps_per_epoch", args.max_steps)) if v is not None}
    overrides.update(_parse_settings(args.set or []))
    if args.recipe:
        from fer_core.training.commands import train_by_recipe
        return train_by_recipe(args, overrides)
    cfg = TrainConfig.load(args.config) if args.config else TrainConfig.for_data(args.data or "demo")
    cfg = cfg.with_overrides(overrides).validate()  # before any data loads
    if args.oof_folds:
        from fer_core.relabel.oof import out_of_fold
        return {"oof_file": str(out_of_fold(cfg, args.oof_folds, out_root=args.out))}
    run_dir = train(cfg, out_root=args.out)
    return {"run_dir": str(run_dir), **json.loads((run_dir / RECORD).read_text())}


def _runs_bundle(args) -> dict:
    from fer_core.runs.transfer import bundle_runs
    return bundle_runs(args.runs, args.out, args.part_mb)


def _runs_unbundle(args) -> dict:
    from fer_core.runs.transfer import unbundle_runs
    return {"runs": [str(p) for p in unbundle_runs(args.folders, args.into)]}


def _auth_add_user(args) -> dict:
    import getpass
    from pathlib import Path

    from fer_core.logins import add_user
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("Password: ")
    add_user(Path(args.file), args.user, args.name or args.user, password, role=args.role)
    return {"file": args.file, "user": args.user, "role": args.role,
            "note": "start the app with FER_AUTH_FILE=" + args.file}


def _sweep_run(args) -> dict:
    from fer_core.sweeps import study as sweeps
    from fer_core.sweeps.spec import SweepSpec
    spec = SweepSpec.load(args.spec)
    study = sweeps.create(spec, args.storage)
    ran = sweeps.work(study, spec, trials=args.trials)
    return {"ran": ran, **sweeps.summary(study)}


def _sweep_worker(args) -> dict:
    from fer_core.sweeps import study as sweeps
    study, spec = sweeps.load(args.study, args.storage)
    ran = sweeps.work(study, spec)
    return {"ran": ran, **sweeps.summary(study)}


def _sweep_show(args) -> dict:
    from fer_core.sweeps import study as sweeps
    from fer_core.sweeps.analysis import ablation_report
    study, _ = sweeps.load(args.study, args.storage)
    result = sweeps.summary(study)
    result["ablation"] = ablation_report(result)  # each arm against the reference, paired by seed
    return result


def _runs_adjust(args) -> dict:
    from fer_core.runs.run import Run
    from fer_core.training.adjust import adjust_run
    out = adjust_run(args.run, criterion=args.criterion, label=args.label, min_recall=args.min_recall)
    return {"run_dir": str(out), **Run.load(out).record.logit_adjustment}


def _runs_clean(args) -> dict:
    from fer_core.runs.store import clean_empty_partials
    return {"removed": clean_empty_partials()}


def _runs_cut_off(args) -> dict:
    from fer_core.runs.store import cut_off_runs
    return {"cut_off_runs": [{k: r[k] for k in ("path", "architecture", "epochs_done", "epochs")} for r in cut_off_runs()],
            "resume_with": "python -m fer_core train --resume PATH"}


def _jobs(args) -> dict:
    from fer_core.jobs.store import JobStore
    store = JobStore()
    if args.cancel:
        return store.cancel(args.cancel)
    return {"jobs": [{k: j.get(k) for k in ("id", "status", "architecture", "epoch", "epochs", "progress", "run_id",
                                            "error") if k != "error" or j.get(k)}
                     for j in store.list()]}


def _evaluate(args) -> dict | str:
    from fer_core.evaluation.evaluate import class_coverage_lines, evaluate
    ev = evaluate(args.runs, data=args.data, split=args.split, tta=args.tta, exclude_leaks=args.exclude_leaks,
                  latency=not args.no_latency, ground_truth=args.ground_truth)
    if args.markdown:
        from fer_core.evaluation.results_table import HEADER, markdown_row
        return HEADER + "\n" + markdown_row(ev, args.runs, args.data)
    return {"summary": ev.summary_row(), "unmapped_classes_left_out": ev.unmapped, "coverage": class_coverage_lines(ev),
            **ev.to_json()}


# Every option naming a file or folder a command reads (outputs such as --out are written, so /dev/null stays fine).
PATH_ARGS = ("path", "paths", "data", "config", "spec", "recipes", "runs", "run", "model", "folders", "source",
             "resume", "file")


def check_paths(args) -> None:
    """Refuse a FIFO, device or over-limit file named on the command line before any command opens it (a FIFO
    blocks, /dev/zero never ends). Names (demo, a run id) and missing files are left to each command's message."""
    from pathlib import Path

    from fer_core.user_paths import regular_path
    for key in PATH_ARGS:
        if key in getattr(args, "checks_own_paths", ()):  # predict: one bad file must not stop the rest
            continue
        value = getattr(args, key, None)
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str) and text:
                regular_path(Path(text).expanduser(), name=text, missing_ok=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m fer_core", description="FER Studio command line")
    sub = parser.add_subparsers(dest="group", required=True)
    add_data_commands(sub)
    train = sub.add_parser("train", help="train a model (writes models/<run-id>/)")
    train.add_argument("--config", help="TrainConfig JSON (e.g. a run's config.json to reproduce it)")
    train.add_argument("--recipe", help="a named recipe (`python -m fer_core recipes` lists them), then its logit "
                       "adjustment; --data, --epochs, --set ... override it")
    train.add_argument("--arch", help="architecture (default: the config's, else TrainConfig's)")
    train.add_argument("--data", help="dataset path or 'demo' (default: the config's, else 'demo')")
    train.add_argument("--epochs", type=int, help="epochs (default: the config's, else TrainConfig's)")
    train.add_argument("--set-epochs", dest="epochs_override", type=int, help="override the config's epochs")
    train.add_argument("--max-train-images", type=int)
    train.add_argument("--max-steps", type=int, help="cap steps per epoch")
    train.add_argument("--out", help="folder for runs (default: models/)")
    train.add_argument("--job-dir", help=argparse.SUPPRESS)
    train.add_argument("--sweep", action="store_true", help=argparse.SUPPRESS)  # a job: config is a sweep spec
    train.add_argument("--oof-folds", type=int, help="instead of one run: k-fold out-of-fold probabilities "
                       "(models/oof/*.npz) for the Relabel page's label-issue ranking")
    train.add_argument("--set", action="append", metavar="KEY=VALUE",
                       help="override any TrainConfig field, e.g. --set data_workers=8 --set augment.erasing=0.5")
    train.add_argument("--resume", metavar="PARTIAL_RUN", help="continue a cut-off run from its last checkpoint "
                       "(the models/<run-id>.partial folder)")
    train.add_argument("--json", action="store_true")
    train.set_defaults(func=_train)
    ev = sub.add_parser("evaluate", help="metrics of a saved run (several runs = an ensemble)")
    ev.add_argument("runs", nargs="+", metavar="RUN_DIR")
    ev.add_argument("--data", help="dataset (default: the one the run was trained on)")
    ev.add_argument("--split", default="PrivateTest", help="split name, or 'all'")
    ev.add_argument("--tta", nargs="?", const="flip", default="none", choices=["none", "flip", "shift10"],
                    help="test-time augmentation: flip (image + mirror; the default when given alone) or shift10 "
                         "(+ 2-px shifts, 10 views)")
    ev.add_argument("--ground-truth", choices=list(GROUND_TRUTHS),
                    help="labels to score against: the dataset's, or FERPlus majority/plurality votes "
                         "(default: majority for runs trained on FERPlus votes, else labels)")
    ev.add_argument("--exclude-leaks", action="store_true", help="leave out test images that also occur in Training")
    ev.add_argument("--no-latency", action="store_true", help="skip the latency measurement")
    ev.add_argument("--markdown", action="store_true", help="print a README results-table row (number, CI, commands, "
                    "training time and device)")
    ev.add_argument("--json", action="store_true")
    ev.set_defaults(func=_evaluate)
    runs = sub.add_parser("runs", help="move finished runs between machines").add_subparsers(dest="command", required=True)
    bundle = runs.add_parser("bundle", help="tar runs into checksummed parts (default 15 MiB each)")
    bundle.add_argument("runs", nargs="+", metavar="RUN_DIR")
    bundle.add_argument("--out", required=True, help="folder for the parts and bundle.json")
    bundle.add_argument("--part-mb", type=float, default=15.0)
    bundle.add_argument("--json", action="store_true")
    bundle.set_defaults(func=_runs_bundle)
    unbundle = runs.add_parser("unbundle", help="verify parts and unpack the runs into models/")
    unbundle.add_argument("folders", nargs="+", metavar="FOLDER", help="folder(s) holding bundle.json and the parts")
    unbundle.add_argument("--into", help="destination (default: models/)")
    unbundle.add_argument("--json", action="store_true")
    unbundle.set_defaults(func=_runs_unbundle)
    cut = runs.add_parser("cut-off", help="runs that stopped before finishing and can be resumed")
    cut.add_argument("--json", action="store_true")
    cut.set_defaults(func=_runs_cut_off)
    adjust = runs.add_parser("adjust", help="logit adjustment for rare classes: a new run with tau * log(prior) "
                                            "off the final bias, tau selected on the validation split")
    adjust.add_argument("run", help="a finished run folder")
    adjust.add_argument("--criterion", choices=["accuracy", "macro_f1", "min_recall"], default="accuracy")
    adjust.add_argument("--min-recall", type=float, help="then lift every class's recall on the validation split "
                        "to at least this (0-1) with per-class offsets")
    adjust.add_argument("--label", help="a one-line description shown with the run (e.g. on the model card)")
    adjust.add_argument("--json", action="store_true")
    adjust.set_defaults(func=_runs_adjust)
    clean = runs.add_parser("clean", help="delete cut-off runs that have no checkpoint (nothing to resume)")
    clean.add_argument("--json", action="store_true")
    clean.set_defaults(func=_runs_clean)
    sweep = sub.add_parser("sweep", help="hyperparameter sweeps on Optuna").add_subparsers(dest="command",
                                                                                          required=True)
    srun = sweep.add_parser("run", help="create (or continue) the study of SPEC and run trials in this process")
    srun.add_argument("spec", help="sweep spec JSON (see fer_core/sweeps/spec.py and sweeps/*.json)")
    srun.add_argument("--trials", type=int, help="trial budget of the study (default: the spec's)")
    srun.add_argument("--storage", help="Optuna storage URL (default: sqlite under models/sweeps/)")
    srun.add_argument("--json", action="store_true")
    srun.set_defaults(func=_sweep_run)
    worker = sweep.add_parser("worker", help="pull trials of an existing study (any number of processes/machines)")
    worker.add_argument("study")
    worker.add_argument("--storage", help="the study's storage URL (default: sqlite under models/sweeps/)")
    worker.add_argument("--json", action="store_true")
    worker.set_defaults(func=_sweep_worker)
    show = sweep.add_parser("show", help="trials, states, values, runs and the best trial of a study")
    show.add_argument("study")
    show.add_argument("--storage")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=_sweep_show)
    auth = sub.add_parser("auth", help="team mode logins").add_subparsers(dest="command", required=True)
    add_user = auth.add_parser("add-user", help="add or replace a user (bcrypt-hashed password) in the login file")
    add_user.add_argument("--file", required=True, help="the YAML file FER_AUTH_FILE will name")
    add_user.add_argument("--user", required=True)
    add_user.add_argument("--name", help="display name (default: the user name)")
    add_user.add_argument("--password-stdin", action="store_true", help="read the password from stdin (scripts)")
    add_user.add_argument("--role", default="annotator", choices=["annotator", "reviewer", "admin"],
                          help="what the user may do on team projects (default: annotator)")
    add_user.add_argument("--json", action="store_true")
    add_user.set_defaults(func=_auth_add_user)
    add_training_commands(sub)
    add_relabel_commands(sub)
    add_inference_commands(sub)
    jobs = sub.add_parser("jobs", help="list background training jobs, or cancel one")
    jobs.add_argument("--cancel", metavar="JOB_ID")
    jobs.add_argument("--json", action="store_true")
    jobs.set_defaults(func=_jobs)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        check_paths(args)
        facts = args.func(args)
    except FerStudioError as exc:  # every kind (data, config, run, store, cancelled): one line, exit 2
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    if facts is None:  # the command wrote its own output (predict rows, the server's log)
        return 0
    if isinstance(facts, str):  # already formatted (e.g. evaluate --markdown)
        print(facts)
    elif args.json:
        print(json.dumps(facts, indent=2, default=str))
    else:
        print(format_facts(facts))
    return 0
