"""Finished evaluations kept in memory for every session of a server process (Compare), newest last, bounded.

`evaluate` also caches its predictions on disk; this keeps the whole Evaluation (metrics, confusion, CIs) so a
rerun of the page, or another viewer asking the same, costs a lookup.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

from fer_core.evaluation.evaluate import Evaluation, evaluate


class EvaluationMemo:
    def __init__(self, limit: int = 32):
        self.limit = limit
        self._done: OrderedDict[tuple, Evaluation] = OrderedDict()
        self._lock = threading.Lock()  # sessions run in threads of one process

    @staticmethod
    def key(runs, **options) -> tuple:
        """Runs by id and model file time (a retrained run is evaluated again), then every option."""
        return (tuple(r.id for r in runs), tuple(r.model_mtime for r in runs), tuple(sorted(options.items())))

    def get(self, runs, **options) -> Evaluation | None:
        with self._lock:
            return self._done.get(self.key(runs, **options))

    def evaluate(self, runs, progress=None, **options) -> Evaluation:
        """The evaluation of `runs` (one run, or an ensemble) with `options` (data, split, tta, exclude_leaks,
        ground_truth), computed now unless kept; `progress(fraction)` is called while it computes."""
        found = self.get(runs, **options)
        if found is not None:
            return found
        ev = evaluate([str(r.path) for r in runs], progress=progress, **options)
        with self._lock:
            self._done[self.key(runs, **options)] = ev
            while len(self._done) > self.limit:
                self._done.popitem(last=False)
        return ev


MEMO = EvaluationMemo()
