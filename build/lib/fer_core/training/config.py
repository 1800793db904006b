"""TrainConfig: every setting a training run depends on, typed and validated, saved as config.json in the run.

One source of defaults: the CLI, the Train page and recipe files (which hold only their overrides) all start
from these. `validate()` checks names, types and ranges before any data loads, and suggests the closest
known name for a typo.
"""
from __future__ import annotations

import difflib
import json
import types
import typing
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from fer_core.data.ferplus import LABEL_SOURCES
from fer_core.errors import ConfigError

OPTIMIZERS = ("adam", "adamw", "sgd")
LR_SCHEDULES = ("constant", "cosine", "plateau")


@dataclass
class AugmentConfig:
    """Host-side augmentation (seed 000's settings by default); 0 / False switches an entry off."""
    rotation: float = 30.0  # (degrees) max in-plane rotation either way
    shift: float = 0.2  # (fraction of the side, 0-1) max translation
    brightness: tuple[float, float] = (0.8, 1.2)  # (factors) range of the brightness multiplier
    shear: float = 0.2  # (0-1) max shear
    zoom: float = 0.2  # (0-1) max zoom in or out
    hflip: bool = True  # mirror half the images
    erasing: float = 0.0  # (probability, 0-1) random erasing per image
    mixup: float = 0.0  # (Beta alpha, 0 = off) mixup of a batch
    cutmix: float = 0.0  # (Beta alpha, 0 = off) CutMix of a batch
    mix_prob: float = 0.5  # (probability, 0-1) a batch is mixed (one of mixup/cutmix at random when both are on)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["brightness"] = list(self.brightness)
        return d


# The built-in demo: 280 synthetic training faces whose generator already jitters pose, scale, position and
# brightness; FER2013's augmentation only slows learning there, and batch 32 gives twice the updates per epoch.
DEMO_DEFAULTS = {"epochs": 12, "batch_size": 32, "augment_enabled": False, "checkpoint_every": 4}

RANGES = {  # field -> (low, high) inclusive; None: unbounded on that side
    "epochs": (1, None), "batch_size": (1, None), "learning_rate": (0, None), "momentum": (0, 1),
    "weight_decay": (0, None), "reduce_lr_patience": (1, None), "reduce_lr_factor": (0, 1),
    "early_stopping_patience": (1, None), "label_smoothing": (0, 1), "max_train_images": (1, None),
    "val_holdout": (0, 0.5),
    "input_size": (32, 512), "head_epochs": (0, None), "fine_tune_layers": (0, None), "fine_tune_lr_factor": (0, None),
    "max_steps_per_epoch": (1, None), "distill_weight": (0, 1), "distill_temperature": (0, None),
    "data_workers": (1, 64), "checkpoint_every": (1, None),
    "augment.rotation": (0, 180), "augment.shift": (0, 1), "augment.shear": (0, 1), "augment.zoom": (0, 1),
    "augment.erasing": (0, 1), "augment.mixup": (0, None), "augment.cutmix": (0, None), "augment.mix_prob": (0, 1),
}
CHOICES = {"optimizer": OPTIMIZERS, "lr_schedule": LR_SCHEDULES, "label_source": tuple(LABEL_SOURCES)}


XLA_FROM_STEPS = 500
XLA_MODES = {None: f"auto ({XLA_FROM_STEPS}+ steps)", True: "on", False: "off"}  # jit_compile values, for forms


@dataclass
class TrainConfig:
    architecture: str = "cnn004"  # a name from the model registry
    data: str = "demo"  # a dataset path, or 'demo'
    scheme: str = "fer2013"  # label scheme the model predicts
    label_source: str = "labels"  # dataset labels, or FERPlus votes: majority / plurality / probability (soft)
    train_split: str = "Training"
    val_split: str = "PublicTest"  # selection (early stopping, plateau) happens on this split only
    test_split: str = "PrivateTest"
    val_holdout: float = 0.1  # share of train_split held out (seeded) when val_split has no labelled rows
    exclude_leaks_from_training: bool = False  # drop Training rows whose image is also in val/test
    max_train_images: int | None = None  # small slices for quick runs and tests
    epochs: int = 30
    batch_size: int | None = None  # None: the architecture's default
    optimizer: str = "adam"
    learning_rate: float | None = None  # None: the architecture's default
    momentum: float = 0.9  # SGD only (Nesterov)
    weight_decay: float = 0.0  # decoupled weight decay (any optimizer)
    lr_schedule: str = "plateau"
    reduce_lr_patience: int = 5  # plateau: epochs without val_loss improvement before the rate drops
    reduce_lr_factor: float = 0.5  # plateau: the factor it drops by
    early_stopping_patience: int | None = 10  # epochs without val_accuracy improvement; None: off
    class_weights: bool = False  # 'balanced' per-class loss weights
    label_smoothing: float = 0.0
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    augment_enabled: bool = True
    seed: int = 0
    mixed_precision: bool = False
    input_size: int | None = None  # None: the architecture's default
    weights_path: str | None = None  # local ImageNet weights for backbones; None: train from scratch
    head_epochs: int = 0  # backbones: epochs with the backbone frozen before fine-tuning
    fine_tune_layers: int | None = None  # backbones: unfreeze only the last N backbone layers
    fine_tune_lr_factor: float = 0.1
    max_steps_per_epoch: int | None = None  # cap for tiny runs
    model_options: dict = field(default_factory=dict)  # architecture shape, e.g. cnn004 {"stages": 3, "dense_layers": 1}
    teacher_runs: list = field(default_factory=list)  # run folders (or run names under models/) to distil from
    distill_weight: float = 0.0  # share of the teachers' probabilities in the training targets (0 = off)
    distill_temperature: float = 1.0  # >1 softens the teachers' probabilities
    # XLA-compile the training step: about 2x the images/s on a 2-core CPU (bench/train_throughput.py), after a
    # compile of ~20 s that a tiny run does not earn back. None: on for runs of XLA_FROM_STEPS training steps or more.
    jit_compile: bool | None = None
    data_workers: int = 1  # threads preparing augmented batches (GPU hosts: more, so the GPU never waits)
    checkpoint_every: int = 1  # epochs between resumable checkpoints (model + optimizer)
    run_name: str | None = None

    def __post_init__(self):
        if isinstance(self.augment, dict):
            self.augment = _augment_from_dict(self.augment)

    # -- validation ---------------------------------------------------------------------------------------
    def validate(self) -> "TrainConfig":
        """Types, ranges and choices of every field; raises ConfigError naming the field and the fix."""
        hints = typing.get_type_hints(TrainConfig)
        for f in fields(self):
            if f.name == "augment":
                continue
            _check_type(f.name, getattr(self, f.name), hints[f.name])
        aug_hints = typing.get_type_hints(AugmentConfig)
        for f in fields(AugmentConfig):
            _check_type(f"augment.{f.name}", getattr(self.augment, f.name), aug_hints[f.name])
        lo, hi = self.augment.brightness
        if not 0 < lo <= hi:
            raise ConfigError(f"augment.brightness must be [low, high] with 0 < low <= high, got {list(self.augment.brightness)}")
        for name, (low, high) in RANGES.items():
            value = getattr(self.augment, name.split(".", 1)[1]) if name.startswith("augment.") else getattr(self, name)
            if value is None:
                continue
            if (low is not None and value < low) or (high is not None and value > high):
                span = f"between {low} and {high}" if high is not None else f"at least {low}"
                raise ConfigError(f"{name} = {value} is out of range", fix=f"use a value {span}")
        for name, allowed in CHOICES.items():
            if getattr(self, name) not in allowed:
                raise ConfigError(f"{name} '{getattr(self, name)}' is not supported", fix=f"use one of {', '.join(allowed)}")
        bad = [k for k, v in self.model_options.items()
               if not isinstance(k, str) or not isinstance(v, (int, float, str, bool, list, type(None)))]
        if bad:
            raise ConfigError(f"model_options {bad} must map names to numbers, text or lists")
        from fer_core.models.registry import ARCHITECTURES
        if self.architecture not in ARCHITECTURES:
            raise ConfigError(f"unknown architecture '{self.architecture}'",
                              fix=_suggest(self.architecture, ARCHITECTURES, "architecture"))
        from fer_core.data.schemes import all_schemes
        if self.scheme not in all_schemes():
            raise ConfigError(f"unknown label scheme '{self.scheme}'", fix=_suggest(self.scheme, all_schemes(), "scheme"))
        return self

    def resolved(self) -> "TrainConfig":
        """Validated, with the architecture's defaults filled in (batch size, learning rate, input size)."""
        self.validate()
        from fer_core.models.registry import ARCHITECTURES
        arch = ARCHITECTURES[self.architecture]
        return replace(self, batch_size=self.batch_size or arch.batch_size,
                       learning_rate=self.learning_rate or arch.learning_rate,
                       input_size=self.input_size or arch.input_size, augment=replace(self.augment))

    # -- (de)serialisation ----------------------------------------------------------------------------------
    def augment_dict(self) -> dict:
        return self.augment.as_dict()

    def to_dict(self) -> dict:
        d = asdict(self)
        d["augment"] = self.augment.as_dict()
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        """Known fields only (unknown ones raise ConfigError with the closest name); missing ones keep defaults."""
        if not isinstance(data, dict):
            raise ConfigError(f"a training config must be a JSON object, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        for key in data:
            if key not in known:
                raise ConfigError(f"unknown TrainConfig field '{key}'", fix=_suggest(key, known, "field"))
        return cls(**data)

    @classmethod
    def for_data(cls, data: str, **values) -> "TrainConfig":
        """The defaults for a dataset (the demo has its own, see DEMO_DEFAULTS), then `values`."""
        return cls(**{**(DEMO_DEFAULTS if data == "demo" else {}), "data": data, **values})

    def with_overrides(self, overrides: dict) -> "TrainConfig":
        """Apply {field: value} and {"augment.<name>": value} overrides (as --set and sweeps give them)."""
        values, aug = self.to_dict(), self.augment.as_dict()
        for key, value in overrides.items():
            head, _, sub = key.partition(".")
            if sub and head == "model_options":
                values["model_options"] = {**values.get("model_options", {}), sub: value}
            elif sub:
                if head != "augment":
                    raise ConfigError(f"'{head}' is not a settings group",
                                      fix="dotted keys work for augment.<name> and model_options.<name> only")
                aug[sub] = value
            elif key == "augment" and isinstance(value, dict):
                aug.update(value)
            else:
                values[key] = value
        values["augment"] = aug
        return TrainConfig.from_dict(values)

    @classmethod
    def load(cls, path: str | Path) -> "TrainConfig":
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read the training config ({type(exc).__name__}: not readable JSON)",
                              path=str(path), fix="give a JSON file of TrainConfig fields") from exc
        if not isinstance(data, dict):
            raise ConfigError("a training config must be a JSON object", path=str(path))
        try:
            return cls.from_dict(data.get("train_config", data))
        except ConfigError as exc:
            raise ConfigError(exc.problem, path=str(path), fix=exc.fix) from exc


def _augment_from_dict(data: dict) -> AugmentConfig:
    known = {f.name for f in fields(AugmentConfig)}
    for key in data:
        if key not in known:
            raise ConfigError(f"unknown augmentation setting 'augment.{key}'", fix=_suggest(key, known, "setting"))
    values = dict(data)
    if isinstance(values.get("brightness"), list):
        values["brightness"] = tuple(values["brightness"])
    return AugmentConfig(**values)


def _suggest(name: str, known, what: str) -> str:
    close = difflib.get_close_matches(str(name), list(known), n=1)
    return f"did you mean '{close[0]}'?" if close else f"known {what}s: {', '.join(sorted(known))}"


def _check_type(name: str, value, hint) -> None:
    """bool is not accepted for numbers (True is an int in Python); ints are fine where floats are expected."""
    if _matches(value, hint):
        return
    shown = json.dumps(value) if isinstance(value, (str, int, float, bool, type(None))) else type(value).__name__
    raise ConfigError(f"{name} = {shown} has the wrong type", fix=f"expected {_describe(hint)}")


def _matches(value, hint) -> bool:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, h) for h in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if origin is tuple:
        args = typing.get_args(hint)
        return isinstance(value, (tuple, list)) and len(value) == len(args) and all(map(_matches, value, args))
    if hint is list or origin is list:
        return isinstance(value, list)
    return True


def _describe(hint) -> str:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(h) for h in typing.get_args(hint))
    if hint is type(None):
        return "null"
    if origin is tuple:
        return "a list of " + str(len(typing.get_args(hint))) + " numbers"
    return {bool: "true/false", int: "an integer", float: "a number", str: "text"}.get(hint, getattr(hint, "__name__", str(hint)))
