"""Sweeps on Optuna: every trial is a normal training run under models/, tagged with its study and trial.

Storage is SQLite under models/sweeps/ by default, or any database URL Optuna supports, so any number of
worker processes (on one machine or many) pull trials from the same study. The spec travels inside the
study (a study attribute), so a worker needs only the study name and the storage URL. Heartbeats mark the
trial of a killed worker as failed; the other workers go on. Trials are pruned on each epoch's validation
accuracy; a pruned trial's run is kept and marked "pruned".
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from fer_core.errors import ConfigError
from fer_core.runs import layout
from fer_core.settings import models_dir
from fer_core.sweeps.spec import SweepSpec
from fer_core.training.progress import Progress

HEARTBEAT_S = 5  # a worker's running trial is failed by the others this long after it stopped beating, x2


def default_storage(study: str, root: Path | None = None) -> str:
    """Optuna storage of a study: the team's PostgreSQL server when FER_DATABASE_URL names one (every study in
    that database), else one SQLite file per study under models/sweeps/."""
    from fer_core.relabel.database import database_url
    url = database_url()
    if url:  # SQLAlchemy's name for the psycopg 3 driver the label store uses
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    folder = (Path(root) if root else models_dir()) / "sweeps"
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / (study + '.db')}"


def _storage(url: str):
    import optuna
    # sqlite: wait for another worker's write instead of failing with 'database is locked'
    engine = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else None
    return optuna.storages.RDBStorage(url, engine_kwargs=engine, heartbeat_interval=HEARTBEAT_S,
                                      grace_period=2 * HEARTBEAT_S)


def _sampler(spec: SweepSpec):
    import optuna
    if spec.sampler == "grid":
        return optuna.samplers.GridSampler(spec.grid(), seed=spec.seed)
    if spec.sampler == "random":
        return optuna.samplers.RandomSampler(seed=spec.seed)
    return optuna.samplers.TPESampler(seed=spec.seed, n_startup_trials=min(5, spec.trials))


def _pruner(spec: SweepSpec):
    import optuna
    if spec.pruner == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1)
    if spec.pruner == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=int(spec.base.get("epochs", 30)))
    return optuna.pruners.NopPruner()


def create(spec: SweepSpec, storage: str | None = None):
    """The study for `spec` (created, or loaded if it exists with the same spec)."""
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url = storage or default_storage(spec.study)
    study = optuna.create_study(study_name=spec.study, storage=_storage(url), sampler=_sampler(spec),
                                pruner=_pruner(spec), direction="maximize", load_if_exists=True)
    saved = study.user_attrs.get("spec")
    if saved is None:
        study.set_user_attr("spec", spec.to_dict())
    elif saved != spec.to_dict():
        raise ConfigError(f"study {spec.study!r} exists with a different spec", path=url,
                          fix="give the sweep a new study name, or run `sweep worker` to continue this one")
    return study


def load(study_name: str, storage: str | None = None):
    """An existing study with its spec, for a worker or for `sweep show`."""
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url = storage or default_storage(study_name)
    try:
        probe = optuna.load_study(study_name=study_name, storage=_storage(url))
    except KeyError:
        from fer_core.relabel.database import redact
        raise ConfigError(f"no study {study_name!r} in this storage", path=redact(url),
                          fix="start it with `python -m fer_core sweep run SPEC`") from None
    spec = SweepSpec.from_dict(probe.user_attrs["spec"], where=f"study {study_name}")
    return optuna.load_study(study_name=study_name, storage=_storage(url), sampler=_sampler(spec),
                             pruner=_pruner(spec)), spec


class TrialProgress(Progress):
    """Reports each epoch's validation accuracy to the trial; asks training to stop when the pruner says so."""

    def __init__(self, trial, metric: str, cancel_file: Path | None = None):
        self.trial, self.metric, self.pruned, self.cancel_file = trial, metric, False, cancel_file

    def epoch(self, epoch, logs):
        value = logs.get(self.metric)
        if value is not None:
            self.trial.report(float(value), epoch)
            self.pruned = self.trial.should_prune()
        print(f"trial {self.trial.number} epoch {epoch + 1}: {self.metric}={value}", flush=True)

    def cancelled(self):
        return self.pruned or bool(self.cancel_file and self.cancel_file.exists())

    def stopped_as(self):
        return "pruned" if self.pruned else "cancelled"


def objective(spec: SweepSpec, out_root: Path | None = None, cancel_file: Path | None = None):
    import optuna

    from fer_core.training.lifecycle import train

    def run_trial(trial) -> float:
        values = spec.suggest(trial)
        cfg = spec.train_config(values, run_name=f"{spec.study}-t{trial.number}")
        progress = TrialProgress(trial, spec.metric, cancel_file)
        run_dir = train(cfg, progress=progress, out_root=out_root,
                        sweep={"study": spec.study, "trial": trial.number, "values": values})
        trial.set_user_attr("run_id", run_dir.name)
        if progress.pruned:
            raise optuna.TrialPruned()
        metrics = json.loads((run_dir / layout.METRICS).read_text())
        return float(metrics["val"]["accuracy"])

    return run_trial


def work(study, spec: SweepSpec, trials: int | None = None, out_root: Path | None = None,
         cancel_file: Path | None = None, on_trial=None) -> int:
    """Run trials until the study holds `trials` (the spec's budget) finished or running trials; returns how
    many this worker ran. Failed trials (an exception, a killed worker) are recorded and the worker goes on."""
    import optuna
    from optuna.trial import TrialState
    budget = trials or spec.trials
    counted = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL, TrialState.RUNNING)
    if len(study.get_trials(deepcopy=False, states=counted)) >= budget:
        return 0

    ran = []

    def stop_if_cancelled(s, trial):
        ran.append(trial.number)  # callbacks run in this process, for the trials this worker ran
        if cancel_file and cancel_file.exists():
            s.stop()

    # running trials count towards the budget, so two workers never start more trials than it allows
    study.optimize(objective(spec, out_root, cancel_file), catch=(Exception,), gc_after_trial=True,
                   callbacks=[optuna.study.MaxTrialsCallback(budget, states=counted), stop_if_cancelled,
                              *([on_trial] if on_trial else [])])
    # a trial of a killed worker still counts as running: once its heartbeat is stale, record it as failed
    deadline = time.time() + 3 * HEARTBEAT_S
    while study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)) and time.time() < deadline:
        time.sleep(1)
        optuna.storages.fail_stale_trials(study)
    return len(ran)


def summary(study) -> dict:
    """Trials with their state, value, parameters and run; the best trial."""
    rows = []
    for t in study.get_trials(deepcopy=False):
        rows.append({"trial": t.number, "state": t.state.name.lower(), "value": t.value, "params": t.params,
                     "run_id": t.user_attrs.get("run_id"),
                     "epochs_reported": len(t.intermediate_values)})
    complete = [r for r in rows if r["state"] == "complete"]
    best = max(complete, key=lambda r: r["value"]) if complete else None
    counts = {}
    for r in rows:
        counts[r["state"]] = counts.get(r["state"], 0) + 1
    return {"study": study.study_name, "trials": rows, "counts": counts, "best": best}


def list_studies(root: Path | None = None) -> list[str]:
    """Studies in the default storage: the PostgreSQL server's, or the folder models/sweeps/<study>.db."""
    from fer_core.relabel.database import database_url
    if database_url():
        import optuna
        return sorted(optuna.get_all_study_names(storage=_storage(default_storage("-"))))
    folder = (Path(root) if root else models_dir()) / "sweeps"
    return sorted(p.stem for p in folder.glob("*.db")) if folder.is_dir() else []


def figures(study) -> dict:
    """Optuna's plotly views of a study (the ones that need two finished trials or two parameters are left out)."""
    from optuna import visualization as vis
    from optuna.trial import TrialState
    finished = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    out = {}
    if not finished:
        return out
    out["Optimisation history"] = vis.plot_optimization_history(study)
    out["Intermediate values (pruning)"] = vis.plot_intermediate_values(study)
    params = {p for t in finished for p in t.params}
    if len(finished) >= 2 and params:
        out["Slices"] = vis.plot_slice(study)
        out["Parallel coordinates"] = vis.plot_parallel_coordinate(study)
    if len(finished) >= 2 and len(params) >= 2:
        out["Parameter importances"] = vis.plot_param_importances(study)
    return out
