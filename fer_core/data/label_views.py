"""Ways to read a dataset's labels: its own, mapped into another scheme, or from FERPlus votes."""
from __future__ import annotations

from dataclasses import dataclass

from fer_core.data.dataset import Dataset
from fer_core.data.ferplus import votes_labels
from fer_core.data.schemes import get_scheme, reachable_schemes


@dataclass(frozen=True)
class LabelView:
    key: str
    title: str
    source: str  # "labels" or a FERPlus label mode
    scheme: str


def label_views(ds: Dataset) -> list[LabelView]:
    views = [LabelView(f"labels:{s}", f"{_origin(ds)} labels → {get_scheme(s).title}", "labels", s)
             for s in reachable_schemes(ds.scheme)]
    if ds.votes is not None:
        for mode in ("majority", "plurality"):  # the hard FERPlus labels (GROUND_TRUTHS less "labels")
            for s in reachable_schemes("ferplus"):
                views.append(LabelView(f"{mode}:{s}", f"FERPlus {mode} vote → {get_scheme(s).title}", mode, s))
    return views


def _origin(ds: Dataset) -> str:
    return {"fer2013": "FER2013", "ckplus": "CK+", "ferplus": "FERPlus", "fer2024": "FER2024"}.get(ds.scheme, ds.scheme)


def apply_view(ds: Dataset, view: LabelView) -> Dataset:
    if view.source == "labels":
        return ds.in_scheme(view.scheme)
    if ds.votes is None:
        return ds.in_scheme(view.scheme)
    return ds.with_labels(votes_labels(ds, view.source, view.scheme), view.scheme)


