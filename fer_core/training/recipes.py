"""Named training recipes: one JSON file each in fer_core/recipes/, validated against TrainConfig.

A recipe is the overrides of a TrainConfig plus what a user needs to choose it: what it is, which datasets it fits
(label scheme, size, the demo), the earlier runs it learns from (distillation teachers), the logit adjustment that
follows training, and the run that measured it here (validation accuracy for ranking, never the test split; seconds
per epoch for the time estimate). The Train page opens on the best recipe that fits the chosen dataset;
`python -m fer_core train --recipe NAME` trains the same.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from fer_core.errors import ConfigError
from fer_core.training.config import TrainConfig

RECIPES_DIR = Path(__file__).resolve().parent.parent / "recipes"
KEYS = {"name", "title", "about", "fits", "teachers", "adjust", "measured_run", "config"}
FIT_KEYS = {"data", "schemes", "min_train_images"}
ADJUST_KEYS = {"criterion", "min_recall"}


@dataclass(frozen=True)
class DataFacts:
    """What a recipe needs to know of a dataset to say whether it fits."""
    source: str           # the path, or "demo"
    scheme: str
    train_images: int     # labelled rows in the training split

    @classmethod
    def of(cls, ds, source: str, train_split: str = "Training") -> "DataFacts":
        from fer_core.data.schemes import UNMAPPED
        return cls(source, ds.scheme, int(((ds.splits == train_split) & (ds.labels != UNMAPPED)).sum()))


@dataclass(frozen=True)
class Recipe:
    name: str
    title: str
    about: str
    config: dict
    fits: dict = field(default_factory=dict)
    teachers: tuple = ()
    adjust: dict | None = None
    measured_run: str | None = None

    @classmethod
    def load(cls, path: Path) -> "Recipe":
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read the recipe ({type(exc).__name__})", path=str(path),
                              fix="a recipe is a JSON object: name, title, about, fits, config") from exc
        if not isinstance(data, dict):
            raise ConfigError("a recipe must be a JSON object", path=str(path))
        for where, got, known in (("recipe", data, KEYS), ("fits", data.get("fits", {}), FIT_KEYS),
                                  ("adjust", data.get("adjust") or {}, ADJUST_KEYS)):
            unknown = sorted(set(got) - known)
            if unknown:
                raise ConfigError(f"unknown {where} key(s) {unknown}", path=str(path), fix=f"use {sorted(known)}")
        missing = sorted({"name", "title", "about", "config"} - set(data))
        if missing:
            raise ConfigError(f"the recipe lacks {missing}", path=str(path))
        recipe = cls(name=data["name"], title=data["title"], about=data["about"], config=data["config"],
                     fits=data.get("fits", {}), teachers=tuple(data.get("teachers", ())), adjust=data.get("adjust"),
                     measured_run=data.get("measured_run"))
        try:
            recipe.train_config("demo" if recipe.fits.get("data") == "demo" else "dataset.csv")  # validates
        except ConfigError as exc:
            raise ConfigError(f"recipe '{recipe.name}': {exc.problem}", path=str(path), fix=exc.fix) from exc
        return recipe

    def train_config(self, data: str | None = None, **overrides) -> TrainConfig:
        """The recipe's TrainConfig for `data` (None: the recipe's own, e.g. a GPU host's pack), with `overrides`
        (field: value, or augment.<name>) on top."""
        values = dict(self.config)
        data = data or values.get("data") or "demo"
        if self.teachers:
            values["teacher_runs"] = list(self.teachers)
        cfg = TrainConfig.for_data(data).with_overrides(values)
        return cfg.with_overrides({**overrides, "data": data}).validate()

    def why_not(self, facts: DataFacts) -> str | None:
        """Why the recipe does not fit the dataset (None when it does)."""
        want = self.fits.get("data")
        if want and want != facts.source:
            return f"made for the {want} dataset"
        if not want and facts.source == "demo" and self.fits.get("min_train_images", 0) > facts.train_images:
            return "made for real datasets"
        schemes = self.fits.get("schemes")
        if schemes and facts.scheme not in schemes:
            return f"made for {', '.join(schemes)} labels, the dataset's are {facts.scheme}"
        least = self.fits.get("min_train_images", 0)
        if facts.train_images < least:
            return f"needs {least:,} labelled training images or more ({facts.train_images:,} here)"
        missing = missing_teachers(self.teachers)
        if missing:
            return f"learns from {len(self.teachers)} earlier runs, {len(missing)} of them missing here"
        return None

    def measured(self) -> dict | None:
        """The measuring run's figures, read from its folder (None when that run is not here)."""
        if not self.measured_run:
            return None
        from fer_core.runs.run import Run
        from fer_core.settings import models_dir
        run = Run.load(models_dir() / self.measured_run)
        val, test = run.metrics.get("val") or {}, run.metrics.get("test") or {}
        if run.broken or "accuracy" not in val:
            return None
        return {"run": run.id, "val_accuracy": val["accuracy"], "val_split": val.get("split"),
                "test_accuracy": test.get("accuracy"), "test_split": test.get("split"),
                "seconds_per_epoch": (run.record.timings_s or {}).get("per_epoch"),
                "train_images": run.record.train_images}


def missing_teachers(teachers) -> list[str]:
    """The teachers that training could not find (it resolves them the same way: runs.store.resolve_runs)."""
    from fer_core.errors import RunError
    from fer_core.runs.store import resolve_runs
    missing = []
    for teacher in teachers:
        try:
            resolve_runs([teacher])
        except RunError:
            missing.append(teacher)
    return missing


def all_recipes(folder: Path | None = None) -> dict[str, Recipe]:
    out = {}
    for path in sorted((folder or RECIPES_DIR).glob("*.json")):
        recipe = Recipe.load(path)
        if recipe.name != path.stem:
            raise ConfigError(f"recipe name '{recipe.name}' differs from its file name", path=str(path),
                              fix=f"name it '{path.stem}'")
        out[recipe.name] = recipe
    return out


def is_recipe_file(path) -> bool:
    """A JSON file in the recipe format (a "config" object beside the description), not a bare TrainConfig."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and isinstance(data.get("config"), dict)


def get_recipe(name: str) -> Recipe:
    """A recipe by name (fer_core/recipes/NAME.json), or a recipe file by path (e.g. gpu/recipes/*.json)."""
    if name.endswith(".json") and Path(name).is_file():
        return Recipe.load(Path(name))
    recipes = all_recipes()
    if name not in recipes:
        import difflib
        close = difflib.get_close_matches(name, list(recipes), n=1)
        raise ConfigError(f"no recipe named '{name}'",
                          fix=f"did you mean '{close[0]}'?" if close else f"known recipes: {', '.join(recipes)}")
    return recipes[name]


def ranked(facts: DataFacts) -> list[tuple[Recipe, str | None]]:
    """Every recipe with why it does not fit (None when it does): fitting ones first, the best measured validation
    accuracy first among them, unmeasured ones after (in file order)."""
    rows = [(r, r.why_not(facts)) for r in all_recipes().values()]

    def key(row):
        recipe, reason = row
        measured = recipe.measured()
        return (reason is not None, -(measured["val_accuracy"] if measured else -1.0))
    return sorted(rows, key=key)


def best_recipe(facts: DataFacts) -> Recipe | None:
    recipe, reason = ranked(facts)[0]
    return recipe if reason is None else None


def estimate_seconds(recipe: Recipe, facts: DataFacts) -> tuple[float | None, str]:
    """(seconds, where the speed comes from): the training time here, from the newest run on this machine with the
    same architecture, input size, batch size and XLA setting, scaled by training images, times the epochs; else
    from the training-throughput bench's images/s for the architecture; (None, "") when neither is here."""
    cfg = recipe.train_config(facts.source if facts.source == "demo" else "dataset.csv").resolved()
    from fer_core.runs.store import usable_runs
    for run in sorted(usable_runs(), key=lambda r: r.record.finished or "", reverse=True):
        tc, record = run.train_config, run.record
        per_epoch = (record.timings_s or {}).get("per_epoch")
        same = (tc.get("architecture"), tc.get("input_size"), tc.get("batch_size"), tc.get("jit_compile")) == \
            (cfg.architecture, cfg.input_size, cfg.batch_size, cfg.jit_compile)
        if same and per_epoch and record.train_images:
            return cfg.epochs * per_epoch * max(facts.train_images, 1) / record.train_images, f"run {run.id}"
    from fer_core.settings import REPO_ROOT
    try:
        rows = json.loads((REPO_ROOT / "bench" / "results" / "train_throughput_tensorflow_cpu.json").read_text())
        rows = rows["results"]
    except (OSError, ValueError, KeyError, TypeError):
        rows = []
    for row in rows:
        if row.get("architecture") == cfg.architecture and row.get("images_per_s"):
            return cfg.epochs * max(facts.train_images, 1) / row["images_per_s"], "bench/train_throughput.py"
    return None, ""


def describe_time(seconds: float | None, source: str = "") -> str:
    if seconds is None:
        return "time here: not measured yet (no run of this kind on this machine)"
    minutes = seconds / 60
    text = f"about {max(minutes, 1):.0f} min" if minutes < 90 else f"about {minutes / 60:.1f} h"
    return f"{text} of training here (speed from {source})" if source else f"{text} of training here"


def train_recipe(recipe: Recipe, data: str, overrides: dict | None = None, progress=None,
                 out_root: Path | None = None) -> Path:
    """Train the recipe on `data`, then apply its logit adjustment; returns the final run (the adjusted one when
    the recipe adjusts)."""
    from fer_core.training.lifecycle import train
    missing = missing_teachers(recipe.teachers)
    if missing:
        raise ConfigError(f"recipe '{recipe.name}' learns from runs that are not here: {', '.join(missing)}",
                          fix="train them first (their config.json is the command), or choose another recipe")
    run_dir = train(recipe.train_config(data, **(overrides or {})), progress=progress, out_root=out_root)
    return then_adjust(run_dir, recipe.adjust)


def then_adjust(run_dir: Path, adjust: dict | None, progress=None) -> Path:
    """A recipe's logit adjustment after training (the CLI's and a Train-page job's): the adjusted run, or
    `run_dir` itself when the recipe does not adjust or the run did not complete (a cancelled run stays as is)."""
    from fer_core.runs.run import Run
    if not adjust or Run.load(run_dir).record.status != "completed":
        return run_dir
    from fer_core.training.adjust import adjust_run
    if progress is not None:
        progress.message(f"logit adjustment ({adjust})")
    return adjust_run(run_dir, **adjust)
