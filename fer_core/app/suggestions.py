"""The Relabel page's suggestions: FERPlus votes (instant) and a model's probabilities (computed once in the
background, then from disk), combined per image."""
from __future__ import annotations

import threading

import streamlit as st

from fer_core.app.ui import plain, show_error
from fer_core.relabel.suggest import (
    Suggestions,
    combine,
    model_distribution_async,
    oof_distribution,
    votes_distribution,
)


@st.cache_resource(max_entries=2)
def _votes(version: str, target: str, _ds):
    return votes_distribution(_ds, target)


_LOCK = threading.Lock()
_COMBINED: dict = {}  # (version, target, sources, n) -> (votes, model, Suggestions), shared by the sessions


def _combined(version: str, target: str, sources: tuple, n: int, votes, model) -> Suggestions:
    """combine() is O(rows x classes): once per pair of source arrays, not on every keypress. The arrays are held
    and compared by identity, so a new model array (a run trained again) is never served stale suggestions."""
    key = (version, target, sources, n)
    with _LOCK:  # sessions rerun on their own threads
        hit = _COMBINED.get(key)
        if hit is not None and hit[0] is votes and hit[1] is model:
            return hit[2]
        out = combine(votes, model, sources, n=n)
        _COMBINED.pop(key, None)
        while len(_COMBINED) >= 4:
            _COMBINED.pop(next(iter(_COMBINED)))
        _COMBINED[key] = (votes, model, out)
        return out


@st.cache_resource(max_entries=2)
def _oof(path: str, version: str, target: str, _ds):
    return oof_distribution(path, _ds, target)


def suggestions_for(ds, target: str, choice: str, runs: dict, oofs: list, rounds: list) -> tuple[Suggestions, bool]:
    """(suggestions, pending): `choice` is '(none)', 'out-of-fold: <stem>', 'loop: round-NNN' (a learning round of
    the project, from `rounds`) or a run id. Pending while the model's pass over the dataset runs in the background;
    the votes alone are returned meanwhile."""
    votes = _votes(ds.version, target, ds)
    model, pending, sources = None, False, ("votes",) if votes is not None else ()
    if choice.startswith("out-of-fold: "):
        path = next(f for f in oofs if f.stem == choice.removeprefix("out-of-fold: "))
        model = _oof(str(path), ds.version, target, ds)
    elif choice.startswith("loop: "):
        path = next(r["path"] for r in rounds if r["path"].stem == choice.removeprefix("loop: "))
        model = _oof(str(path), ds.version, target, ds)
    elif choice in runs:
        job = model_distribution_async(runs[choice], ds, target)
        if not job.done():
            pending = True
        elif job.exception() is not None:
            show_error(job.exception(), f"No model suggestions from {plain(choice[:40])}.")
        else:
            model = job.result()
    if model is not None:
        sources += (choice,)
    return _combined(ds.version, target, sources, len(ds), votes, model), pending
