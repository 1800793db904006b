"""The Relabel page's suggestions: FERPlus votes (instant) and a model's probabilities (computed once in the
background, then from disk), combined per image."""
from __future__ import annotations

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
    return combine(votes, model, sources, n=len(ds)), pending
