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


def setting(default=None, label: str = "", help: str = "", range: tuple | None = None, step=None, fmt=None,
            zero_is_none: bool = False, choices=None, factory=None):
    """A config field with what a form and validation need, in one place: the label and help a form shows, the
    (low, high) range (None: open on that side) that validate() enforces and a form's bounds follow, the step and
    number format of a number box, whether a form's 0 stands for None (off), and the allowed choices."""
    meta = {"label": label, "help": help, "range": range, "step": step, "format": fmt, "zero_is_none": zero_is_none,
            "choices": choices}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class AugmentConfig:
    """Host-side augmentation (seed 000's settings by default); 0 / False switches an entry off."""
    rotation: float = setting(30.0, "Rotation °", "max in-plane rotation either way, in degrees", (0, 180))
    shift: float = setting(0.2, "Shift", "max translation, as a fraction of the side", (0, 1))
    brightness: tuple[float, float] = setting((0.8, 1.2), "Brightness", "range of the brightness multiplier")
    shear: float = setting(0.2, "Shear", "max shear", (0, 1))
    zoom: float = setting(0.2, "Zoom", "max zoom in or out", (0, 1))
    hflip: bool = setting(True, "Horizontal flip", "mirror half the images")
    erasing: float = setting(0.0, "Random erasing (probability)", "random erasing per image", (0, 1), 0.1)
    mixup: float = setting(0.0, "Mixup α (0 = off)", "Beta alpha of mixup within a batch", (0, None), 0.1)
    cutmix: float = setting(0.0, "CutMix α (0 = off)", "Beta alpha of CutMix within a batch", (0, None), 0.1)
    mix_prob: float = setting(0.5, "Share of batches mixed", "one of mixup/CutMix at random when both are on",
                              (0, 1), 0.1)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["brightness"] = list(self.brightness)
        return d


# The built-in demo: 280 synthetic training faces whose generator already jitters pose, scale, position and
# brightness; FER2013's augmentation only slows learning there, and batch 32 gives twice the updates per epoch.
DEMO_DEFAULTS = {"epochs": 12, "batch_size": 32, "augment_enabled": False, "checkpoint_every": 4}

XLA_FROM_STEPS = 500
XLA_MODES = {None: f"auto ({XLA_FROM_STEPS}+ steps)", True: "on", False: "off"}  # jit_compile values, for forms


@dataclass
class TrainConfig:
    architecture: str = setting("cnn004", "Architecture", "a name from the model registry")
    data: str = setting("demo", "Dataset", "a dataset path, or 'demo'")
    scheme: str = setting("fer2013", "Label scheme", "the label scheme the model predicts")
    label_source: str = setting("labels", "Labels from", "the dataset's labels, or FERPlus votes: majority / "
                                "plurality / probability (soft) / Dawid–Skene", choices=tuple(LABEL_SOURCES))
    train_split: str = setting("Training", "Training split")
    val_split: str = setting("PublicTest", "Validation split", "selection (early stopping, plateau) happens on "
                             "this split only")
    test_split: str = setting("PrivateTest", "Test split")
    val_holdout: float = setting(0.1, "Validation hold-out", "share of the training split held out (seeded) when "
                                 "the validation split has no labelled rows", (0, 0.5))
    exclude_leaks_from_training: bool = setting(False, "Drop leaked train images", "Drop Training images that also "
                                                "occur in the validation or test split")
    max_train_images: int | None = setting(None, "Max training images (0 = all)", "a random subset, for quick runs "
                                           "and tests", (1, None), zero_is_none=True)
    epochs: int = setting(30, "Epochs", "passes over the training images", (1, None))
    batch_size: int | None = setting(None, "Batch size", "None: the architecture's default", (1, None))
    optimizer: str = setting("adam", "Optimizer", choices=OPTIMIZERS)
    learning_rate: float | None = setting(None, "Learning rate", "None: the architecture's default", (0, None),
                                          fmt="%.6f")
    momentum: float = setting(0.9, "Momentum", "SGD only (Nesterov)", (0, 1))
    weight_decay: float = setting(0.0, "Weight decay", "decoupled weight decay (any optimizer)", (0, None), 1e-4,
                                  "%.5f")
    lr_schedule: str = setting("plateau", "LR schedule", choices=LR_SCHEDULES)
    reduce_lr_patience: int = setting(5, "Plateau patience", "plateau: epochs without val_loss improvement before "
                                      "the rate drops", (1, None))
    reduce_lr_factor: float = setting(0.5, "Plateau factor", "plateau: the factor the rate drops by", (0, 1))
    early_stopping_patience: int | None = setting(10, "Early-stopping patience (0 = off)", "epochs without "
                                                  "val_accuracy improvement", (1, None), zero_is_none=True)
    class_weights: bool = setting(False, "Class weights", "'balanced' per-class loss weights")
    label_smoothing: float = setting(0.0, "Label smoothing", range=(0, 1), step=0.05)
    augment: AugmentConfig = setting(label="Augmentation", factory=AugmentConfig)
    augment_enabled: bool = setting(True, "Augment", "host-side augmentation on or off")
    seed: int = setting(0, "Seed", "weights, shuffling and augmentation follow it", (0, 2**31 - 1))
    mixed_precision: bool = setting(False, "Mixed precision (GPU)", "float16 compute where a GPU supports it")
    input_size: int | None = setting(None, "Input size", "None: the architecture's default", (32, 512))
    weights_path: str | None = setting(None, "Local ImageNet weights (.h5, notop)", "backbones: None trains from "
                                       "scratch (nothing can be downloaded here)")
    head_epochs: int = setting(0, "Head-only epochs before fine-tuning", "backbones: epochs with the backbone frozen",
                               (0, None))
    fine_tune_layers: int | None = setting(None, "Fine-tune last N backbone layers (0 = all)", "backbones: unfreeze "
                                           "only the last N backbone layers", (0, None), zero_is_none=True)
    fine_tune_lr_factor: float = setting(0.1, "Fine-tune rate factor", range=(0, None))
    max_steps_per_epoch: int | None = setting(None, "Max steps per epoch", "a cap for tiny runs", (1, None))
    model_options: dict = setting(label="Model options", help='architecture shape, e.g. cnn004 {"stages": 3}',
                                  factory=dict)
    teacher_runs: list = setting(label="Teacher runs", help="run folders (or run names under models/) to distil "
                                 "from", factory=list)
    distill_weight: float = setting(0.0, "Teacher share of targets", "share of the teachers' probabilities in the "
                                    "training targets (0 = off)", (0, 1), 0.1)
    distill_temperature: float = setting(1.0, "Temperature", ">1 softens the teachers' probabilities", (0, None), 0.5)
    # XLA-compile the training step: about 2x the images/s on a 2-core CPU (bench/train_throughput.py), after a
    # compile of ~20 s that a tiny run does not earn back. None: on for runs of XLA_FROM_STEPS training steps or more.
    jit_compile: bool | None = setting(None, "XLA compile", "XLA about doubles training speed on CPU after a ~20 s "
                                       "compile", choices=tuple(XLA_MODES))
    data_workers: int = setting(1, "Data workers", "threads preparing augmented batches (GPU hosts: more)", (1, 64))
    checkpoint_every: int = setting(1, "Checkpoint every", "epochs between resumable checkpoints", (1, None))
    run_name: str | None = setting(None, "Run name (optional)")

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


def field_meta(name: str) -> dict:
    """The form/validation metadata of a field: "epochs", or "augment.<name>"."""
    cls, key = (AugmentConfig, name.removeprefix("augment.")) if name.startswith("augment.") else (TrainConfig, name)
    return next(f.metadata for f in fields(cls) if f.name == key)


# Ranges and choices as validate() checks them, read off the fields' metadata (the forms read the same)
RANGES = {**{f.name: f.metadata["range"] for f in fields(TrainConfig) if f.metadata.get("range")},
          **{f"augment.{f.name}": f.metadata["range"] for f in fields(AugmentConfig) if f.metadata.get("range")}}
CHOICES = {f.name: f.metadata["choices"] for f in fields(TrainConfig)
           if f.metadata.get("choices") and f.name != "jit_compile"}


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
