"""Detector time per 640x480 group frame, interleaved, against a baseline measured in the same run ->
bench/results/detect_speed.json.

python bench/detect_speed.py [--rounds 3] [--against PATH:NAME ...] [--also NAME ...]

This machine's speed drifts (2-3x within a day), so one detector's ms alone says little: each detector runs in
its own fresh process, in turns, for several rounds, on the same 40 group scenes (2-8 faces, bench/detect.py's
scenes), and the result keeps each one's median over the rounds and its ratio to short-range BlazeFace on the
whole frame. --against PATH:NAME times detector NAME of another checkout too (e.g. `git worktree add /tmp/old
HEAD~1` for the detector a change replaced).
"""
from __future__ import annotations

import argparse
import json
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "results" / "detect_speed.json"

TIMER = """
import pickle, sys, time
sys.path.insert(0, sys.argv[1])
import numpy as np
from fer_core.live.detect import DetectorSettings, FaceDetector
scenes = pickle.load(open(sys.argv[3], "rb"))
det = FaceDetector(DetectorSettings(name=sys.argv[2], min_size=24))
for s in scenes[:5]:
    det.detect(s)
ms = []
for _ in range(3):
    for s in scenes:
        t = time.perf_counter()
        det.detect(s)
        ms.append(1000 * (time.perf_counter() - t))
print(float(np.median(ms)))
"""


def scenes(path: Path, n: int = 40) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    import cv2
    import detect as bd
    import numpy as np
    from sklearn.datasets import load_sample_images
    rng = np.random.default_rng(5)
    picks, _ = bd.faces(100, rng)
    photos = [cv2.cvtColor(img, cv2.COLOR_RGB2GRAY) for img in load_sample_images().images]
    path.write_bytes(pickle.dumps([bd.group_scene(rng, photos, picks, 640, 480)[0] for _ in range(n)]))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--against", nargs="*", default=[], help="PATH:NAME, a detector of another checkout")
    parser.add_argument("--also", nargs="*", default=[], help="more detectors of this tree, e.g. blazeface-full (the "
                        "issue's 5.5 ms when it was filed: how fast the machine is today)")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()
    from fer_core.live.detector_names import DETECTORS
    runs = {f"{name} (this tree)": (str(ROOT), name) for name in (DETECTORS[0], "blazeface", *args.also)}
    for spec in args.against:
        path, name = spec.rsplit(":", 1)
        runs[f"{name} ({path})"] = (path, name)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "scenes.pkl"
        scenes(data)
        ms = {key: [] for key in runs}
        for r in range(args.rounds):
            for key, (path, name) in runs.items():
                done = subprocess.run([sys.executable, "-c", TIMER, path, name, str(data)], capture_output=True,
                                      text=True, check=True)
                ms[key].append(round(float(done.stdout.strip().splitlines()[-1]), 2))
                print(r, key, ms[key][-1], flush=True)
    import numpy as np
    base = "blazeface (this tree)"
    result = {"frames": "40 group scenes, 640x480, 2-8 faces (bench/detect.py group_scene, seed 5)",
              "rounds": args.rounds, "ms_per_round": ms,
              "median_ms": {k: float(np.median(v)) for k, v in ms.items()},
              "ratio_to_short_range_per_round": {k: [round(a / b, 2) for a, b in zip(v, ms[base])] for k, v in ms.items()}}
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
