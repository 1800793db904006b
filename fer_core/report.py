"""The facts the Dataset page and `python -m fer_core data ...` both show, computed in one place."""
from __future__ import annotations

import numpy as np

from .dataset import Dataset
from .quality import QualityReport
from .schemes import get_scheme
from .stats import class_balance, class_weight_table


def dataset_facts(ds: Dataset) -> dict:
    balance = class_balance(ds)
    counts = {split: dict(zip(g["class"], g["count"].astype(int).tolist())) for split, g in balance.groupby("split", sort=False)}
    return {
        "name": ds.name,
        "source": ds.source,
        "version": ds.version,
        "scheme": ds.scheme,
        "scheme_title": get_scheme(ds.scheme).title,
        "rows": len(ds),
        "splits": {s: int((ds.splits == s).sum()) for s in ds.split_names},
        "class_counts": counts,
        "class_weights": class_weight_table(ds).to_dict(),
        "ferplus_votes": ds.votes is not None,
        "demo": ds.is_demo,
        "notes": list(ds.notes),
    }


def quality_facts(report: QualityReport, ds: Dataset, examples: int = 10) -> dict:
    def ids(rows):
        return ds.ids[np.asarray(rows, dtype=int)[:examples]].tolist()

    return {
        "summary": report.summary(),
        "examples": {
            "duplicate groups (row ids)": [ds.ids[g].tolist() for g in report.duplicate_groups[:examples]],
            "conflicting duplicate groups (row ids)": [ds.ids[g].tolist() for g in report.conflicting_duplicates[:examples]],
            "blank (row ids)": ids(report.blank),
            **{f"leaks {k} (row ids)": ids(v) for k, v in report.leaks.items()},
        },
    }
