"""A sweep spec: a search space over TrainConfig fields, a sampler, a pruner and a trial budget (JSON).

    {"study": "demo-lr", "trials": 6, "sampler": "tpe", "pruner": "median", "seed": 0,
     "base": {"data": "demo", "architecture": "cnn004", "epochs": 4},
     "space": {"learning_rate": {"float": [1e-4, 1e-2], "log": true},
               "batch_size": {"categorical": [16, 32]},
               "augment.erasing": {"float": [0.0, 0.5]},
               "label_smoothing": {"categorical": [0.0, 0.1]}}}

Keys of `space` and `base` are TrainConfig fields ("augment.x" for augmentation settings), checked by
TrainConfig.validate() before any trial runs. An ablation names its arms in `variants` ({name: overrides})
and searches the categorical parameter "variant" over those names, usually crossed with "seed":

    "variants": {"full": {}, "no_dropout": {"model_options.dropout": 0.0}},
    "space": {"variant": {"categorical": ["full", "no_dropout"]}, "seed": {"categorical": [0, 1, 2]}}

Samplers: grid (every combination of categorical values), random, tpe. Pruners: median, hyperband, none;
they see each epoch's validation accuracy.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from fer_core.errors import ConfigError

TEMPLATES = Path(__file__).parent / "templates"
SWEEP_TEMPLATE = TEMPLATES / "demo.json"
SAMPLERS = ("tpe", "random", "grid")
PRUNERS = ("median", "hyperband", "none")
STUDY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def templates() -> dict[str, Path]:
    """The ready-made specs by name, the demo search first."""
    found = sorted(TEMPLATES.glob("*.json"), key=lambda p: (p != SWEEP_TEMPLATE, p.name))
    return {p.stem: p for p in found}


def parse_json(text: str) -> dict:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"the sweep spec is not valid JSON ({exc})", fix="check commas, quotes and brackets") from None


@dataclass
class SweepSpec:
    study: str
    space: dict
    base: dict = field(default_factory=dict)
    trials: int = 10
    sampler: str = "tpe"
    pruner: str = "median"
    seed: int = 0
    metric: str = "val_accuracy"  # maximised
    variants: dict = field(default_factory=dict)  # ablation arms: {name: TrainConfig overrides}

    @classmethod
    def load(cls, path: str | Path) -> SweepSpec:
        try:
            raw = json.loads(Path(path).read_text())
        except FileNotFoundError:
            raise ConfigError("sweep spec not found", path=str(path)) from None
        except ValueError as exc:
            raise ConfigError(f"the sweep spec is not valid JSON ({exc})", path=str(path)) from None
        return cls.from_dict(raw, str(path))

    @classmethod
    def from_dict(cls, raw: dict, where: str = "sweep spec") -> SweepSpec:
        if not isinstance(raw, dict):
            raise ConfigError("a sweep spec is a JSON object", path=where)
        unknown = set(raw) - set(cls.__dataclass_fields__)
        if unknown:
            raise ConfigError(f"unknown sweep setting(s): {', '.join(sorted(unknown))}", path=where,
                              fix=f"use {', '.join(cls.__dataclass_fields__)}")
        try:
            spec = cls(**raw)
        except TypeError as exc:
            raise ConfigError(f"incomplete sweep spec ({exc})", path=where, fix="give at least study and space") from None
        return spec.validate(where)

    def validate(self, where: str = "sweep spec") -> SweepSpec:
        if not isinstance(self.study, str) or not STUDY_NAME.fullmatch(self.study):
            raise ConfigError(f"study name {self.study!r} is not allowed", path=where,
                              fix="letters, digits, '-', '_' or '.', at most 64 characters")
        if self.sampler not in SAMPLERS:
            raise ConfigError(f"sampler {self.sampler!r} is not one of {', '.join(SAMPLERS)}", path=where)
        if self.pruner not in PRUNERS:
            raise ConfigError(f"pruner {self.pruner!r} is not one of {', '.join(PRUNERS)}", path=where)
        if not isinstance(self.trials, int) or self.trials < 1:
            raise ConfigError("trials must be a positive integer", path=where)
        if not isinstance(self.space, dict) or not self.space:
            raise ConfigError("the search space is empty", path=where, fix='e.g. "space": {"learning_rate": '
                                                                          '{"float": [1e-4, 1e-2], "log": true}}')
        for name, dist in self.space.items():
            kinds = [k for k in ("float", "int", "categorical") if k in (dist if isinstance(dist, dict) else {})]
            if len(kinds) != 1:
                raise ConfigError(f"space[{name!r}] needs exactly one of float, int or categorical", path=where)
            values = dist[kinds[0]]
            if kinds[0] == "categorical" and (not isinstance(values, list) or not values):
                raise ConfigError(f"space[{name!r}].categorical must be a non-empty list", path=where)
            if kinds[0] != "categorical" and (not isinstance(values, list) or len(values) != 2
                                              or not values[0] < values[1]):
                raise ConfigError(f"space[{name!r}].{kinds[0]} must be [low, high] with low < high", path=where)
            if self.sampler == "grid" and kinds[0] != "categorical":
                raise ConfigError(f"the grid sampler needs categorical values (space[{name!r}])", path=where)
        self._check_variants(where)
        # every field must be a TrainConfig field with a valid value: check one sample (and every variant) now
        names = self.space["variant"]["categorical"] if self.variants else [None]
        for name in names:
            cfg = self.train_config({**self.first_values(), **({"variant": name} if name else {})})
            if cfg.model_options:  # imports the builder (Keras), so only when shape options are given
                from fer_core.models.registry import check_model_options
                try:
                    check_model_options(cfg.architecture, cfg.model_options)
                except ConfigError as exc:
                    raise ConfigError(exc.problem + (f" (variant {name!r})" if name else ""), path=where,
                                      fix=exc.fix) from None
        return self

    def _check_variants(self, where: str) -> None:
        if not isinstance(self.variants, dict) or not all(isinstance(v, dict) for v in self.variants.values()):
            raise ConfigError("variants must map each name to an object of TrainConfig overrides", path=where)
        dist = self.space.get("variant")
        if not self.variants:
            if dist is not None:
                raise ConfigError('space["variant"] needs a "variants" object naming each variant\'s overrides',
                                  path=where)
            return
        names = dist.get("categorical") if isinstance(dist, dict) else None
        if not names:
            raise ConfigError('an ablation searches "variant": {"categorical": [names]} in its space', path=where,
                              fix=f"names: {', '.join(self.variants)}")
        unknown = [n for n in names if n not in self.variants]
        if unknown:
            raise ConfigError(f"variant(s) {', '.join(map(repr, unknown))} are not in variants", path=where,
                              fix=f"defined: {', '.join(self.variants)}")
        for name, overrides in self.variants.items():
            weights = overrides.get("weights_path")
            # a "pretrained" arm without its weights file would train from scratch: scratch against scratch
            if weights and not Path(weights).is_file():
                raise ConfigError(f"variant {name!r} names ImageNet weights that are not here", path=str(weights),
                                  fix="download the backbone's 'notop' .h5 on a machine with internet and give "
                                      "its local path")

    def confine_paths(self) -> SweepSpec:
        """Every data file and weights file the spec names, checked against the configured roots (user_paths):
        a spec typed in the UI must not read outside them."""
        from fer_core.user_paths import readable_path

        def confined(value):
            return value if value in (None, "demo") else str(readable_path(str(value)))

        for key in ("data", "weights_path"):
            for overrides in (self.base, *self.variants.values()):
                if key in overrides:
                    overrides[key] = confined(overrides[key])
            values = self.space.get(key, {}).get("categorical", [])
            values[:] = [confined(v) for v in values]
        return self

    def first_values(self) -> dict:
        out = {}
        for name, dist in self.space.items():
            if "categorical" in dist:
                out[name] = dist["categorical"][0]
            else:
                out[name] = dist["float" if "float" in dist else "int"][0]
        return out

    def grid(self) -> dict:
        return {name: dist["categorical"] for name, dist in self.space.items()}

    def train_config(self, values: dict, run_name: str | None = None):
        from fer_core.training.config import TrainConfig
        values = dict(values)
        variant = values.pop("variant", None)
        values = {**self.variants.get(variant, {}), **values}
        data = {**self.base, **values}.get("data", "demo")
        cfg = TrainConfig.for_data(data).with_overrides({**self.base, **values,
                                                         **({"run_name": run_name} if run_name else {})})
        return cfg.validate()

    def suggest(self, trial) -> dict:
        """Sample this trial's values (Optuna's define-by-run API)."""
        out = {}
        for name, dist in self.space.items():
            if "categorical" in dist:
                out[name] = trial.suggest_categorical(name, dist["categorical"])
            elif "float" in dist:
                low, high = dist["float"]
                out[name] = trial.suggest_float(name, low, high, log=bool(dist.get("log")))
            else:
                low, high = dist["int"]
                out[name] = trial.suggest_int(name, int(low), int(high), log=bool(dist.get("log")))
        return out

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}
