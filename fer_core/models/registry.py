"""Architecture registry: name -> builder and its defaults (input size, learning rate, batch size).

Importable without Keras: builders are named as "module:function" and imported when a model is built, so the
Train form, config validation and sweeps can list architectures cheaply.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass

from fer_core.errors import ConfigError


@dataclass(frozen=True)
class Architecture:
    name: str
    title: str
    builder: str  # "fer_core.models.<module>:<function>"
    input_size: int
    learning_rate: float
    batch_size: int
    pretrained_capable: bool = False

    def build(self, **options):
        module, _, function = self.builder.partition(":")
        return getattr(importlib.import_module(module), function)(**options)


_M = "fer_core.models."
ARCHITECTURES = {a.name: a for a in (
    Architecture("fernet", "FERNet: residual 3x3 CNN 16→128 + SE (CPU default)", _M + "efficient:build_fernet", 48, 1e-3, 64),
    Architecture("fernet_sep", "FERNet, depthwise-separable variant", _M + "efficient:build_fernet_sep", 48, 1e-3, 64),
    Architecture("cbam5cnn", "CBAM-5CNN (seed 000)", _M + "cnns:build_cbam5cnn", 48, 1e-3, 64),
    Architecture("efficientnetb3", "EfficientNetB3 transfer (seed 000)", _M + "backbones:build_efficientnetb3", 96, 1e-3, 32, True),
    Architecture("vgg16", "VGG16 transfer (seed 001)", _M + "backbones:build_vgg16", 96, 1e-4, 32, True),
    Architecture("cnn002", "CNN, 4 blocks 64→512 (seed 002)", _M + "cnns:build_cnn002", 48, 1e-3, 64),
    Architecture("cnn004", "CNN, 4 conv stages + 2 dense (seed 004)", _M + "cnns:build_cnn004", 48, 1e-3, 64),
    Architecture("resnet18", "ResNet-18 for 48x48 (ensemble member)", _M + "resnets:build_resnet18", 48, 1e-3, 64),
    Architecture("compact", "Compact CNN, 7 convs + GAP (default-model student)", _M + "cnns:build_compact", 48, 1e-3, 64),
)}


def architecture_named(name: str) -> Architecture:
    """The registered architecture called `name`; ConfigError (with the choices) for any other name."""
    if name not in ARCHITECTURES:
        raise ConfigError(f"unknown architecture '{name}'", fix=f"choose one of {', '.join(ARCHITECTURES)}")
    return ARCHITECTURES[name]


def build_model(architecture: str, n_classes: int, **options):
    """Build an uncompiled model taking B x 48 x 48 x 1 pixels in 0-255 and returning class probabilities."""
    arch = architecture_named(architecture)
    if options.get("input_size") is None:
        options["input_size"] = arch.input_size
    return arch.build(n_classes=n_classes, **options)


def check_model_options(architecture: str, options: dict) -> None:
    """Shape options must be parameters of the architecture's builder (builders swallow unknown keywords)."""
    import inspect

    module, _, function = architecture_named(architecture).builder.partition(":")
    params = inspect.signature(getattr(importlib.import_module(module), function)).parameters
    allowed = [p for p in params if p not in ("n_classes", "input_size", "weights_path", "_")
               and params[p].kind is not inspect.Parameter.VAR_KEYWORD]
    unknown = [k for k in options if k not in allowed]
    if unknown:
        raise ConfigError(f"{architecture} has no model option {', '.join(map(repr, unknown))}",
                          fix=f"its options: {', '.join(allowed) or 'none'}")
