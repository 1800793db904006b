"""Architecture registry: name -> builder and its defaults (input size, learning rate, batch size)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from . import backbones, cnns, efficient, resnets


@dataclass(frozen=True)
class Architecture:
    name: str
    title: str
    build: Callable
    input_size: int
    learning_rate: float
    batch_size: int
    pretrained_capable: bool = False


ARCHITECTURES = {a.name: a for a in (
    Architecture("cbam5cnn", "CBAM-5CNN (seed 000)", cnns.build_cbam5cnn, 48, 1e-3, 64),
    Architecture("efficientnetb3", "EfficientNetB3 transfer (seed 000)", backbones.build_efficientnetb3, 96, 1e-3, 32, True),
    Architecture("vgg16", "VGG16 transfer (seed 001)", backbones.build_vgg16, 96, 1e-4, 32, True),
    Architecture("cnn002", "CNN, 4 blocks 64→512 (seed 002)", cnns.build_cnn002, 48, 1e-3, 64),
    Architecture("cnn004", "CNN, 4 conv stages + 2 dense (seed 004)", cnns.build_cnn004, 48, 1e-3, 64),
    Architecture("resnet18", "ResNet-18 for 48x48 (ensemble member)", resnets.build_resnet18, 48, 1e-3, 64),
    Architecture("fernet", "FERNet: residual 3x3 CNN 16→128 + SE (CPU default)", efficient.build_fernet, 48, 0.05, 64),
    Architecture("fernet_sep", "FERNet, depthwise-separable variant", efficient.build_fernet_sep, 48, 1e-3, 64),
    Architecture("compact", "Compact CNN, 7 convs + GAP (default-model student)", cnns.build_compact, 48, 1e-3, 64),
)}


def build_model(architecture: str, n_classes: int, **options):
    """Build an uncompiled model taking B x 48 x 48 x 1 pixels in 0-255 and returning class probabilities."""
    if architecture not in ARCHITECTURES:
        raise ValueError(f"unknown architecture '{architecture}'; choose one of {', '.join(ARCHITECTURES)}")
    arch = ARCHITECTURES[architecture]
    if options.get("input_size") is None:
        options["input_size"] = arch.input_size
    return arch.build(n_classes=n_classes, **options)
