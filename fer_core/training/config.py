"""TrainConfig: every setting a training run depends on, saved as config.json in the run."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from ..errors import DataError

OPTIMIZERS = ("adam", "adamw", "sgd")
LR_SCHEDULES = ("constant", "cosine", "plateau")
LABEL_SOURCES = ("labels", "majority", "plurality", "probability")


def default_augment() -> dict:
    """Seed 000's augmentation; each entry can be switched off (0 / None / False).

    erasing: probability of random erasing per image; mixup / cutmix: Beta alpha (0 = off), applied to a
    batch with probability mix_prob (one of the two at random when both are on).
    """
    return {"rotation": 30.0, "shift": 0.2, "brightness": [0.8, 1.2], "shear": 0.2, "zoom": 0.2, "hflip": True,
            "erasing": 0.0, "mixup": 0.0, "cutmix": 0.0, "mix_prob": 0.5}


@dataclass
class TrainConfig:
    architecture: str = "cnn004"
    data: str = "demo"  # a dataset path, or 'demo'
    scheme: str = "fer2013"
    label_source: str = "labels"  # dataset labels, or FERPlus votes: majority / plurality / probability (soft)
    train_split: str = "Training"
    val_split: str = "PublicTest"
    test_split: str = "PrivateTest"
    exclude_leaks_from_training: bool = False  # drop Training rows whose image is also in val/test
    max_train_images: int | None = None  # small slices for quick runs and tests
    epochs: int = 30
    batch_size: int | None = None  # None: the architecture's default
    optimizer: str = "adam"
    learning_rate: float | None = None  # None: the architecture's default
    momentum: float = 0.9  # SGD only (Nesterov)
    weight_decay: float = 0.0  # decoupled weight decay (any optimizer)
    lr_schedule: str = "plateau"
    reduce_lr_patience: int = 5
    reduce_lr_factor: float = 0.5
    early_stopping_patience: int | None = 10  # None: off
    class_weights: bool = False
    label_smoothing: float = 0.0
    augment: dict = field(default_factory=default_augment)
    augment_enabled: bool = True
    seed: int = 0
    mixed_precision: bool = False
    input_size: int | None = None  # None: the architecture's default
    weights_path: str | None = None  # local ImageNet weights for backbones; None: train from scratch
    head_epochs: int = 0  # backbones: epochs with the backbone frozen before fine-tuning
    fine_tune_layers: int | None = None  # backbones: unfreeze only the last N backbone layers
    fine_tune_lr_factor: float = 0.1
    max_steps_per_epoch: int | None = None  # cap for tiny runs
    teacher_runs: list = field(default_factory=list)  # run folders (or run names under models/) to distil from
    distill_weight: float = 0.0  # share of the teachers' probabilities in the training targets (0 = off)
    distill_temperature: float = 1.0  # >1 softens the teachers' probabilities
    data_workers: int = 1  # threads preparing augmented batches (GPU hosts: more, so the GPU never waits)
    checkpoint_every: int = 1  # epochs between resumable checkpoints (model + optimizer)
    run_name: str | None = None

    def resolved(self) -> "TrainConfig":
        """Fill architecture defaults (batch size, learning rate, input size) and validate."""
        from ..models.registry import ARCHITECTURES
        if self.architecture not in ARCHITECTURES:
            raise DataError(f"unknown architecture '{self.architecture}'", fix=f"choose one of {', '.join(ARCHITECTURES)}")
        arch = ARCHITECTURES[self.architecture]
        values = asdict(self)
        values["batch_size"] = self.batch_size or arch.batch_size
        values["learning_rate"] = self.learning_rate or arch.learning_rate
        values["input_size"] = self.input_size or arch.input_size
        cfg = TrainConfig(**values)
        for name, allowed in (("optimizer", OPTIMIZERS), ("lr_schedule", LR_SCHEDULES), ("label_source", LABEL_SOURCES)):
            if getattr(cfg, name) not in allowed:
                raise DataError(f"{name} '{getattr(cfg, name)}' is not supported", fix=f"use one of {', '.join(allowed)}")
        if cfg.epochs < 1 or cfg.batch_size < 1:
            raise DataError("epochs and batch size must be at least 1")
        return cfg

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise DataError(f"unknown TrainConfig fields: {', '.join(sorted(unknown))}")
        return cls(**data)

    @classmethod
    def load(cls, path: str | Path) -> "TrainConfig":
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            raise DataError(f"cannot read the training config ({exc})", path=str(path)) from exc
        return cls.from_dict(data.get("train_config", data))
