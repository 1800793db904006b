"""Widgets for TrainConfig fields, generated from the fields' metadata (label, help, range, step, format, choices):
the Train form lays fields out in rows and gets back the values, so a range or a help text lives in one place."""
from __future__ import annotations

import typing

import streamlit as st

from fer_core.errors import ConfigError
from fer_core.training.config import XLA_MODES, AugmentConfig, TrainConfig, field_meta

_HINTS = {**typing.get_type_hints(TrainConfig), **{f"augment.{k}": v for k, v in
                                                   typing.get_type_hints(AugmentConfig).items()}}
FORMATS = {"jit_compile": XLA_MODES.get}  # how a choice is shown, where its value is not readable text


def _value(cfg: TrainConfig, name: str):
    return getattr(cfg.augment, name[8:]) if name.startswith("augment.") else getattr(cfg, name)


def _base_type(hint):
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return args[0] if args else hint


def widget(cfg: TrainConfig, name: str, where=st, options=None, format_func=None):
    """One field's widget with the config's value; returns the value in the config's terms (None where the form's
    0 means off). `options` overrides the choices (e.g. the label schemes known now)."""
    meta, value, kind = field_meta(name), _value(cfg, name), _base_type(_HINTS[name])
    label, help_ = meta["label"], meta["help"] or None
    choices = list(options if options is not None else meta["choices"] or ())
    if choices:
        shown = format_func or FORMATS.get(name) or str
        return where.selectbox(label, choices, index=choices.index(value) if value in choices else 0,
                               format_func=shown, help=help_)
    if kind is bool:
        return where.checkbox(label, bool(value), help=help_)
    if kind in (int, float):
        low, high = meta["range"] or (None, None)
        if meta["zero_is_none"]:
            low, value = 0, value or 0
        cast = int if kind is int else float
        got = where.number_input(label, min_value=None if low is None else cast(low),
                                 max_value=None if high is None else cast(high), value=cast(value),
                                 step=None if meta["step"] is None else cast(meta["step"]), format=meta["format"],
                                 help=help_)
        return (got or None) if meta["zero_is_none"] else got
    if kind is str:
        return where.text_input(label, value or "", help=help_).strip() or None
    raise ConfigError(f"the form has no widget for {name} ({kind})", fix="lay out scalar fields only")


def rows(cfg: TrainConfig, layout, options: dict | None = None) -> dict:
    """Widgets for `layout` (rows of field names, one column each); returns {field: value} with augment.<name>
    keys as TrainConfig.with_overrides takes them."""
    options = options or {}
    out = {}
    for row in layout:
        for col, name in zip(st.columns(len(row)), row):
            out[name] = widget(cfg, name, col, *options.get(name, (None, None)))
    return out
