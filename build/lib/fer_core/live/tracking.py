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


def centre_distance(a, b) -> float:
    """Distance between box centres in units of the larger box side."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    side = max(aw, ah, bw, bh, 1)
    return float(np.hypot(ax + aw / 2 - bx - bw / 2, ay + ah / 2 - by - bh / 2)) / side


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
    max_centre_shift: float = 0.5  # centre distance, in face widths, that still counts as the same face
    max_missed: int = 15  # processed frames a face may go undetected (a blink, a turn) and keep its id
    tracks: list[Track] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=itertools.count)

    def update(self, boxes: np.ndarray, probs: np.ndarray) -> list[Track]:
        """Match boxes to tracks (closest pairs first); returns the tracks seen in this frame, in box order.

        A pair matches when the boxes overlap (IoU >= iou_threshold) or their centres are within half a face
        width: a face that moved between two processed frames keeps its id instead of getting a new one.
        """
        pairs = []
        for b, box in enumerate(boxes):
            for t, track in enumerate(self.tracks):
                dist = centre_distance(track.box, box)
                if iou(track.box, box) >= self.iou_threshold or dist <= self.max_centre_shift:
                    pairs.append((dist, b, t))
        match: dict[int, int] = {}
        used = set()
        for _, b, t in sorted(pairs):
            if b not in match and t not in used:
                match[b] = t
                used.add(t)
        out = []
        for b, (box, p) in enumerate(zip(boxes, probs)):
            if b in match:
                track = self.tracks[match[b]]
                track.box, track.missed = tuple(box), 0
                track.probs = self.alpha * p + (1 - self.alpha) * track.probs
            else:
                track = Track(next(self._ids), tuple(box), p.copy())
                self.tracks.append(track)
            out.append(track)
        seen = {id(t) for t in out}
        for track in self.tracks:
            if id(track) not in seen:
                track.missed += 1
        self.tracks = [t for t in self.tracks if t.missed <= self.max_missed]
        return out
