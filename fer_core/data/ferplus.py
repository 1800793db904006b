"""FERPlus votes (fer2013new.csv): rows align with FER2013 by position. Label modes follow the FERPlus paper."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from fer_core.data.schemes import UNMAPPED, get_scheme, map_distribution, map_labels
from fer_core.errors import DataError

VOTE_COLUMNS = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt", "unknown", "NF")
UNKNOWN, NOT_A_FACE = 8, 9
LABEL_MODES = ("majority", "plurality", "probability", "dawid-skene")
# Where labels come from, named once: training targets (all four) and evaluation ground truth (hard ones).
LABEL_SOURCES = {
    "labels": "the dataset's own labels",
    "majority": "FERPlus votes, majority (paper)",
    "plurality": "FERPlus votes, plurality",
    "probability": "FERPlus votes, soft probabilities",
    "dawid-skene": "FERPlus votes, Dawid–Skene consensus",
}
GROUND_TRUTHS = {k: v for k, v in LABEL_SOURCES.items() if k != "probability"}


def load_votes(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Returns (votes N x 10 int, usage N str). Errors name the file and row."""
    path = Path(path)
    if not path.exists():
        raise DataError("FERPlus votes file not found", path=str(path),
                        fix="point to fer2013new.csv from the FERPlus release")
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        expected = ["Usage", "Image name", *VOTE_COLUMNS]
        if header is None or [h.strip() for h in header] != expected:
            raise DataError("not a FERPlus votes file: its first line is not the FERPlus header", path=str(path),
                            fix=f"a FERPlus votes file starts with '{','.join(expected)}'")
        votes, usage = [], []
        for row, fields in enumerate(reader):
            if len(fields) != len(expected):
                raise DataError(f"{len(fields)} fields, expected {len(expected)}", path=str(path), row=row)
            try:
                counts = [int(v) for v in fields[2:]]
            except ValueError:
                raise DataError("vote counts must be integers", path=str(path), row=row) from None
            if min(counts) < 0:
                raise DataError("negative vote count", path=str(path), row=row)
            votes.append(counts)
            usage.append(fields[0].strip())
    if not votes:
        raise DataError("the votes file has no rows", path=str(path))
    return np.asarray(votes, dtype=np.int64), np.asarray(usage)


def labels_from_votes(votes: np.ndarray, mode: str = "majority") -> np.ndarray:
    """Hard labels in the 'ferplus' scheme; UNMAPPED where the mode discards the image.

    - majority (FERPlus paper): drop single outlier votes; the top emotion must hold more than half of
      the remaining votes, else the image is 'unknown'.
    - plurality: the top vote, first column on ties (the usual quick reading).
    - probability: argmax of `probabilities_from_votes`, UNMAPPED when that discards the image.
    - dawid-skene: the crowd's consensus by Dawid–Skene (`relabel.consensus`), 'unknown' / 'not a face' when
      that is the most probable class.
    """
    if mode == "dawid-skene":
        from fer_core.data.consensus import crowd_labels
        return crowd_labels(votes, UNKNOWN)
    votes = np.asarray(votes, dtype=np.float64)
    if mode == "plurality":
        return votes.argmax(axis=1)
    if mode == "probability":
        probs = probabilities_from_votes(votes)
        out = probs.argmax(axis=1)
        out[probs.sum(axis=1) == 0] = UNMAPPED
        return out
    if mode != "majority":
        raise DataError(f"unknown FERPlus label mode '{mode}'", fix=f"use one of {', '.join(LABEL_MODES)}")
    kept = np.where(votes <= 1, 0, votes)  # a single vote is treated as annotator noise
    top = kept.argmax(axis=1)
    top_votes = kept.max(axis=1)
    total = kept.sum(axis=1)
    return np.where((total > 0) & (top_votes > 0.5 * total), top, UNKNOWN)


def probabilities_from_votes(votes: np.ndarray) -> np.ndarray:
    """Soft labels: votes without single-vote outliers, normalised; all-zero rows when the image is unusable
    (top class is unknown / not-a-face, or fewer than half of the votes agree on up to three emotions)."""
    kept = np.where(np.asarray(votes) <= 1, 0, votes).astype(np.float64)
    total = kept.sum(axis=1, keepdims=True)
    order = np.argsort(-kept, axis=1, kind="stable")
    top3 = np.take_along_axis(kept, order[:, :3], axis=1).sum(axis=1)
    usable = (total[:, 0] > 0) & (top3 > 0.5 * total[:, 0]) & (order[:, 0] < UNKNOWN)
    probs = np.divide(kept, total, out=np.zeros_like(kept), where=total > 0)
    probs[~usable] = 0.0
    return probs


def vote_distribution_names() -> tuple[str, ...]:
    return get_scheme("ferplus").classes


# ---- labels derived from a dataset's votes: the one place every page, queue, trainer and evaluator reads them ----

def require_votes(ds, purpose: str) -> np.ndarray:
    """The dataset's FERPlus votes, or a DataError naming what needed them."""
    if ds.votes is None:
        raise DataError(f"{ds.name} has no FERPlus votes {purpose}",
                        fix="put fer2013new.csv beside the FER2013 CSV, or use the dataset's own labels")
    return ds.votes


def votes_labels(ds, mode: str = "majority", scheme: str | None = None) -> np.ndarray:
    """One label per row from the FERPlus votes by `mode`, in `scheme` (FERPlus' own when None); UNMAPPED where
    the mode discards the image or the scheme has no such class."""
    labels = labels_from_votes(require_votes(ds, f"to take '{mode}' labels from"), mode)
    return labels if scheme in (None, "ferplus") else map_labels(labels, "ferplus", scheme)


def votes_disagreement(ds, mode: str = "majority") -> tuple[np.ndarray, np.ndarray]:
    """(disagree, comparable) row masks: comparable where both the dataset's label and the FERPlus label (in the
    dataset's scheme) exist; disagree where, in addition, they differ."""
    fp = votes_labels(ds, mode, ds.scheme)
    comparable = (fp != UNMAPPED) & (ds.labels != UNMAPPED)
    return comparable & (fp != ds.labels), comparable


def votes_in_scheme(votes: np.ndarray, scheme: str, rule: str = "counts") -> np.ndarray:
    """The votes per class of `scheme` (classes without counterpart, e.g. unknown and not-a-face, dropped):
    - counts: raw vote counts (a crowd annotator for consensus);
    - shares: each class's share of all the image's votes (rows sum to less than 1 where votes were dropped);
    - soft: FERPlus' soft labels (`probabilities_from_votes`) renormalised over the scheme's classes, all-zero
      rows for unusable images (training targets)."""
    votes = np.asarray(votes)
    if rule == "counts":
        return map_distribution(votes.astype(np.int64), "ferplus", scheme)
    if rule == "shares":
        v = votes.astype(np.float32)
        total = v.sum(axis=1, keepdims=True)
        return map_distribution(np.divide(v, total, out=np.zeros_like(v), where=total > 0), "ferplus", scheme)
    if rule == "soft":
        out = map_distribution(probabilities_from_votes(votes), "ferplus", scheme).astype(np.float32)
        total = out.sum(axis=1, keepdims=True)
        return np.divide(out, total, out=np.zeros_like(out), where=total > 0)
    raise DataError(f"unknown vote rule {rule!r}", fix="use counts, shares or soft")

