"""Simple IoU tracking with exponential smoothing of class probabilities per tracked face."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np


def iou(a, b) -> float:
    ax0, ay0, aw, ah = a
    bx0, by0, bw, bh = b
    ix = max(0, min(ax0 + aw, bx0 + bw) - max(ax0, bx0))
    iy = max(0, min(ay0 + ah, by0 + bh) - max(ay0, by0))
    inter = ix * iy
    union = aw * ah + bw * bh - inter
    return inter / union if union else 0.0


@dataclass
class Track:
    id: int
    box: tuple
    probs: np.ndarray
    missed: int = 0


@dataclass
class Tracker:
    alpha: float = 0.5  # weight of the newest frame (1 = no smoothing)
    iou_threshold: float = 0.3
    max_missed: int = 5
    tracks: list[Track] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=itertools.count)

    def update(self, boxes: np.ndarray, probs: np.ndarray) -> list[Track]:
        """Match boxes to tracks greedily by IoU; returns the tracks seen in this frame, in box order."""
        unmatched = list(range(len(self.tracks)))
        out = []
        for box, p in zip(boxes, probs):
            best, best_iou = None, self.iou_threshold
            for t in unmatched:
                score = iou(self.tracks[t].box, box)
                if score >= best_iou:
                    best, best_iou = t, score
            if best is None:
                track = Track(next(self._ids), tuple(box), p.copy())
                self.tracks.append(track)
            else:
                unmatched.remove(best)
                track = self.tracks[best]
                track.box, track.missed = tuple(box), 0
                track.probs = self.alpha * p + (1 - self.alpha) * track.probs
            out.append(track)
        for t in unmatched:
            self.tracks[t].missed += 1
        self.tracks = [t for t in self.tracks if t.missed <= self.max_missed]
        return out
