"""The facts the Dataset page and `python -m fer_core data ...` both show, computed in one place."""
from __future__ import annotations

import numpy as np
import pandas as pd

from fer_core.data.balance import balanced_class_weights, class_counts
from fer_core.data.dataset import Dataset
from fer_core.data.quality import QualityReport
from fer_core.data.schemes import UNMAPPED, get_scheme


def class_balance(ds: Dataset) -> pd.DataFrame:
    """Long table: split, class, count, percent (of the split's mapped rows). Unmapped rows get class '(unmapped)'."""
    names = list(ds.class_names)
    rows = []
    for split in ds.split_names:
        labels = ds.labels[ds.splits == split]
        counts = class_counts(labels, len(names))
        total = counts.sum()
        for name, c in zip(names, counts):
            rows.append({"split": split, "class": name, "count": int(c),
                         "percent": 100.0 * c / total if total else 0.0})
        unmapped = int((labels == UNMAPPED).sum())
        if unmapped:
            rows.append({"split": split, "class": "(unmapped)", "count": unmapped, "percent": float("nan")})
    return pd.DataFrame(rows)


def class_weight_table(ds: Dataset) -> pd.DataFrame:
    names = list(ds.class_names)
    data = {split: balanced_class_weights(ds.labels[ds.splits == split], len(names)) for split in ds.split_names}
    return pd.DataFrame(data, index=pd.Index(names, name="class")).round(3)


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
        "extra_columns": extra_column_summary(ds),
        "demo": ds.is_demo,
        "notes": list(ds.notes),
    }


def extra_column_summary(ds: Dataset) -> dict:
    """Per extra column (AffectNet's valence and arousal, ExpW's box confidence): its range and mean, in words."""
    out = {}
    for name, values in (ds.extras or {}).items():
        values = np.asarray(values)
        if values.dtype.kind in "fiu" and len(values):
            finite = values[np.isfinite(values)]
            out[name] = (f"mean {finite.mean():.3f}, {finite.min():.3f} to {finite.max():.3f}"
                         + (f", {len(values) - len(finite):,} missing" if len(finite) < len(values) else "")
                         if len(finite) else "all missing")
    return out


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
