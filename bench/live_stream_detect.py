"""Stream detection (full scan every few frames, faces' neighbourhoods between) vs the full detector on every
frame, on moving group clips -> bench/results/live_stream_detect.json.

python bench/live_stream_detect.py [--clips 12] [--frames 90] [--seed 7]

Clips: a real photo (scikit-learn's samples) as the room, 2-8 FER2013 PrivateTest / CK+ faces of 40-260 px (the
group bench's buckets) drifting 0-4 px a frame and bobbing, one more face entering a third of the way in. Both
detectors see the same frames in the same order; per frame: faces found (a box hits a face as in
bench/detect.py), false positives, and ms, the two timed in turns frame by frame so machine drift hits both.
"Entering": frames from a new face's first frame to its first box.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import cv2  # noqa: E402
import detect as bd  # noqa: E402
import numpy as np  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "live_stream_detect.json"


def clip(rng, photos, picks, n: int, width: int = 640, height: int = 480):
    """Frames and, per frame, the true boxes: faces that drift and bob over a fixed photo; one enters late."""
    room = bd.photo_room(rng, photos, width, height)
    # where bench/detect.py's group scenes put faces (2-8, sizes from the four buckets, apart)
    _, truth = bd.group_scene(rng, photos, picks, width, height)
    people = [(np.array(t[:2], float), t[2], picks[rng.integers(len(picks))][0], rng.uniform(-4, 4, 2),
               rng.uniform(0, 2 * np.pi), 0) for t in truth]
    lo, hi = bd.BUCKETS[rng.integers(len(bd.BUCKETS))]
    size = int(rng.integers(lo, hi))
    people.append((np.array([rng.integers(0, width - size), rng.integers(0, height - size)], float), size,
                   picks[rng.integers(len(picks))][0], rng.uniform(-4, 4, 2), 0.0, n // 3))
    frames, boxes = [], []
    for t in range(n):
        img, now = room.copy(), []
        for pos, side, face, v, phase, start in people:
            if t < start:
                continue
            x, y = pos + v * (t - start) + (0, 6 * np.sin(phase + t / 5))
            x, y = int(np.clip(x, 0, width - side)), int(np.clip(y, 0, height - side))
            img[y:y + side, x:x + side] = cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC)
            now.append((x, y, side, side, start))
        frames.append(cv2.cvtColor(img, cv2.COLOR_GRAY2BGR))
        boxes.append(now)
    return frames, boxes


def score(found, truth) -> tuple[list, int]:
    used, hits = set(), []
    for tb in truth:
        m = [j for j, b in enumerate(found) if bd.hits(b, tb[:4]) and j not in used]
        hits.append((tb[2], tb[4], bool(m)))
        used |= set(m[:1])
    return hits, len(found) - len(used)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clips", type=int, default=12)
    parser.add_argument("--frames", type=int, default=90)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--roi-input", type=int, help="the squares' network input side (default: squares.ROI_INPUT; the cascade's second looks use it too)")
    args = parser.parse_args()
    from sklearn.datasets import load_sample_images

    from fer_core.live import squares
    from fer_core.live.detect import DETECTORS, DetectorSettings, FaceDetector
    from fer_core.live.stream_detect import FULL_EVERY, StreamFaceDetector
    if args.roi_input:
        squares.ROI_INPUT = args.roi_input
    rng = np.random.default_rng(args.seed)
    picks, _ = bd.faces(200, rng)
    photos = [cv2.cvtColor(img, cv2.COLOR_RGB2GRAY) for img in load_sample_images().images]
    settings = DetectorSettings(name=DETECTORS[0], min_size=24)
    full, stream = FaceDetector(settings), StreamFaceDetector(settings)
    full.detect(np.zeros((480, 640, 3), np.uint8))
    rows = {"full": {"hits": [], "fp": [], "ms": []}, "stream": {"hits": [], "fp": [], "ms": []}}
    entering = []
    for _ in range(args.clips):
        frames, truth = clip(rng, photos, picks, args.frames)
        stream.reset()
        first_seen = None
        for t, (frame, tb) in enumerate(zip(frames, truth)):
            for name, det in (("full", full), ("stream", stream)) if t % 2 else (("stream", stream), ("full", full)):
                t0 = time.perf_counter()
                found = det.detect(frame)
                rows[name]["ms"].append(1000 * (time.perf_counter() - t0))
                hits, fp = score(found, tb)
                rows[name]["hits"] += hits
                rows[name]["fp"].append(fp)
                if name == "stream" and first_seen is None and any(h for _, start, h in hits if start > 0):
                    first_seen = t - args.frames // 3
        entering.append(first_seen)
    out = {"clips": args.clips, "frames_per_clip": args.frames, "detector": DETECTORS[0], "full_every": FULL_EVERY,
           "roi_input": squares.ROI_INPUT,
           "faces": "FER2013 PrivateTest + CK+, 40-260 px, drifting 0-4 px a frame and bobbing on a real photo",
           "full_scans_share": round(stream.full_scans / max(stream.frames, 1), 3)}
    for name, r in rows.items():
        hits = r["hits"]
        out[name] = {
            "recall_48_plus": round(float(np.mean([h for px, _, h in hits if px >= 48])), 4),
            "recall_100_plus": round(float(np.mean([h for px, _, h in hits if px >= 100])), 4),
            "recall_by_face_px": {f"{lo}-{hi - 1}": round(float(np.mean([h for px, _, h in hits if lo <= px < hi])), 4)
                                  for lo, hi in bd.BUCKETS},
            "false_positives_per_frame": round(float(np.mean(r["fp"])), 4),
            "ms_median": round(float(np.median(r["ms"])), 2), "ms_mean": round(float(np.mean(r["ms"])), 2),
            "ms_p90": round(float(np.percentile(r["ms"], 90)), 2)}
    out["time_ratio_mean_stream_to_full"] = round(out["stream"]["ms_mean"] / out["full"]["ms_mean"], 3)
    out["entering_face_frames_to_first_box"] = entering
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
