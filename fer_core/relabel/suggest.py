"""Suggested labels for every image in a project's scheme: FERPlus votes, a model's probabilities, or both.

Each source is a distribution over the target scheme's classes (N x K, rows of zeros where the source says
nothing). A model's distribution costs a pass over the dataset (~12 s for FER2013 with the default model), so it
is computed once per (data version, source) in a background thread and kept on disk; votes cost nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fer_core.atomic import atomic_path
from fer_core.data.dataset import Dataset
from fer_core.data.ferplus import votes_in_scheme, votes_labels
from fer_core.data.schemes import map_distribution
from fer_core.settings import cache_dir

NONE = -1  # no suggestion for the image


@dataclass(frozen=True)
class Thresholds:
    """When a suggestion is strong enough to be confirmed in bulk (grid review); the Relabel page lets the user set
    them. Defaults chosen on FER2013's Training rows against the FERPlus majority label (bench/relabel_thresholds.py):
    votes >= 60% cover 77% of the rows at 100% precision; also requiring the default model's agreement cuts that to
    58% and adds no precision, so the model orders and flags (a badge on the tile) instead of gating. Without votes,
    the default model's top probability >= 0.7 covers 27% at 91% precision."""
    min_votes_share: float = 0.6    # the top class holds at least this share of the FERPlus votes
    require_agreement: bool = False  # ... and the model's top class is the same (when a model is attached)
    min_model_prob: float = 0.7     # without votes: the model's top probability


@dataclass(frozen=True)
class Suggestions:
    """One suggestion per dataset row, in the target scheme."""
    label: np.ndarray        # suggested class, NONE where no source says anything
    strength: np.ndarray     # 0..1: the votes' share for a votes-based suggestion, else the model's probability
    votes_label: np.ndarray  # NONE without votes
    votes_share: np.ndarray  # nan without votes
    model_label: np.ndarray  # NONE without a model
    model_prob: np.ndarray   # nan without a model
    sources: tuple[str, ...]

    @property
    def disagree(self) -> np.ndarray:
        """Both sources present and naming different classes."""
        return (self.votes_label != NONE) & (self.model_label != NONE) & (self.votes_label != self.model_label)

    def bulk_ok(self, t: Thresholds) -> np.ndarray:
        """Rows whose suggestion may be confirmed on a grid page."""
        has_votes = self.votes_label != NONE
        has_model = self.model_label != NONE
        by_votes = has_votes & (np.nan_to_num(self.votes_share) >= t.min_votes_share)
        if t.require_agreement:
            by_votes &= ~has_model | (self.model_label == self.votes_label)
        by_model = ~has_votes & has_model & (np.nan_to_num(self.model_prob) >= t.min_model_prob)
        return by_votes | by_model

    def priority(self) -> np.ndarray:
        """Smart-queue order key, low first: disagreements first, the sharpest conflict (both sources sure of
        different classes) leading, then the least certain. A continuous key, not a flag: with ties the order
        among disagreements was the dataset's, so a new model (a learning round) hardly moved the queue."""
        conflict = np.minimum(np.nan_to_num(self.votes_share, nan=0.0), np.nan_to_num(self.model_prob, nan=0.0))
        return np.where(self.disagree, -1.0 - conflict, np.nan_to_num(self.strength, nan=0.0))


def votes_distribution(ds: Dataset, target: str) -> np.ndarray | None:
    """The share of FERPlus votes per target class (rows of zeros where an image has no votes)."""
    if ds.votes is None:
        return None
    return votes_in_scheme(ds.votes, target, "shares")


def oracle_labels(ds: Dataset, target: str) -> np.ndarray:
    """The FERPlus majority label (paper rule; 'unknown' without a majority) in the target scheme: what the
    throughput bench's simulated annotator answers."""
    return votes_labels(ds, "majority", target)


def combine(votes: np.ndarray | None, model: np.ndarray | None, sources: tuple[str, ...] = (),
            n: int | None = None) -> Suggestions:
    n = n if n is not None else len(votes if votes is not None else model)
    nan = np.full(n, np.nan, np.float32)
    none = np.full(n, NONE, np.int64)

    def top(dist):
        if dist is None:
            return none, nan
        said = dist.sum(axis=1) > 0
        return np.where(said, dist.argmax(axis=1), NONE), np.where(said, dist.max(axis=1), np.nan)

    vl, vs = top(votes)
    ml, mp = top(model)
    label = np.where(vl != NONE, vl, ml)
    strength = np.where(vl != NONE, vs, mp)
    return Suggestions(label, strength, vl, vs, ml, mp, sources)


# ---- model distributions: computed once per (data version, source), in the background, kept on disk ----

def _cache_file(ds: Dataset, key: str, target: str) -> Path:
    return cache_dir() / "suggestions" / f"{ds.version}-{target}-{key}.npy"


def run_key(run) -> str:
    return f"run-{run.id}-{run.model_mtime}"


def model_distribution(run, ds: Dataset, target: str) -> np.ndarray:
    """A saved run's probabilities for every image, in the target scheme (computed now if not on disk)."""
    path = _cache_file(ds, run_key(run), target)
    if path.exists():
        return np.load(path)
    from fer_core.api import FER
    dist = map_distribution(FER(run, detector=None).classify(ds.images), run.scheme, target)
    with atomic_path(path, suffix=".npy") as tmp:
        np.save(tmp, dist)
    return dist


def oof_distribution(path: str | Path, ds: Dataset, target: str) -> np.ndarray:
    """Out-of-fold probabilities (fer_core.relabel.oof) placed on the dataset's rows; zeros for rows it lacks."""
    from fer_core.relabel.oof import load_oof
    oof = load_oof(path)
    scheme = oof["config"].get("scheme", "fer2013")
    probs = map_distribution(oof["probs"].astype(np.float32), scheme, target)
    row_of = {str(i): n for n, i in enumerate(ds.ids.tolist())}
    out = np.zeros((len(ds), probs.shape[1]), np.float32)
    rows = np.array([row_of.get(str(i), -1) for i in oof["ids"]])
    out[rows[rows >= 0]] = probs[rows >= 0]
    return out


def model_distribution_async(run, ds: Dataset, target: str):
    """A Future of `model_distribution`; one computation per (data version, run) however often it is asked for."""
    from fer_core.relabel import background
    return background.submit(str(_cache_file(ds, run_key(run), target)), model_distribution, run, ds, target)


def suggestions(ds: Dataset, target: str, run=None) -> Suggestions:
    """Votes (when attached) and `run`'s probabilities (computed now if not on disk), combined: the Python and CLI
    counterpart of the Relabel page's background version."""
    model = model_distribution(run, ds, target) if run is not None else None
    return combine(votes_distribution(ds, target), model, (("votes",) if ds.votes is not None else ())
                   + ((run.id,) if run is not None else ()), n=len(ds))
