"""Per-frame latency of the Live pipeline on a 640x480 frame with one real face -> JSON.

python bench/live.py [--run models/<run-id>] [--frames 100] [--out bench/results/live.json]

Stages: detect / classify / draw / overlay (Grad-CAM, Grad-CAM++ and, for CBAM models, attention).
Reports medians and p90s, and ratios against the eager `model(x)` baseline measured in the same run.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import cv2  # noqa: E402
import numpy as np  # noqa: E402
import streamlit_webrtc  # noqa: F401,E402  (before TensorFlow)

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def paste(face: np.ndarray) -> np.ndarray:
    frame = np.full((480, 640, 3), 120, np.uint8)
    frame[140:340, 220:420] = cv2.resize(face, (200, 200), interpolation=cv2.INTER_CUBIC)[..., None]
    return frame


def face_frame() -> np.ndarray:
    """The first CK+ face the Haar cascade finds, pasted into a 640x480 frame."""
    from fer_core.data.loading import load_dataset
    from fer_core.live.detect import FaceDetector
    ck = SHARED / "ckplus" / "ckplus.csv.gz"
    if not ck.exists():
        raise SystemExit(f"needs CK+ at {ck} for a real face")
    detector = FaceDetector()
    for face in load_dataset(ck).images:
        frame = paste(face)
        if len(detector.detect(frame[..., 0])):
            return frame
    raise SystemExit("no CK+ face detected")


def stats(values) -> dict:
    v = np.asarray(values)
    return {"median_ms": round(float(np.median(v)), 3), "p90_ms": round(float(np.percentile(v, 90)), 3)}


def main():
    from fer_core.live.pipeline import LivePipeline, LiveSettings
    from fer_core.runs.store import default_run
    parser = argparse.ArgumentParser()
    parser.add_argument("--run")
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "live.json"))
    args = parser.parse_args()
    run = args.run or default_run().path
    frame = face_frame()
    pipe = LivePipeline(run, LiveSettings(show_timings=False, smoothing=1.0))
    report = {"run": Path(run).name, "backend": pipe.fer.model.name, "frame": "640x480, one 200 px CK+ face", "frames": args.frames, "modes": {}}
    overlays = ["none", "Grad-CAM", "Grad-CAM++"] + (["CBAM attention"] if pipe.explainer.cbam else [])
    for overlay in overlays:
        pipe.settings.overlay = overlay
        n = args.frames if overlay != "Grad-CAM++" else max(args.frames // 5, 5)
        for _ in range(3):
            pipe.process(frame)  # warm-up (tracing, first Grad-CAM++ clone)
        per_stage, totals = {k: [] for k in ("detect", "classify", "draw", "overlay")}, []
        for _ in range(n):
            t = time.perf_counter()
            _, results, timings = pipe.process(frame)
            totals.append(1000 * (time.perf_counter() - t))
            for k in per_stage:
                per_stage[k].append(timings[k])
        assert results, "no face detected in the benchmark frame"
        report["modes"][overlay] = {"total": stats(totals), **{k: stats(v) for k, v in per_stage.items()}}
    x = np.zeros((1, 48, 48, 1), np.float32)
    model = pipe.fer.keras_model
    model(x, training=False)
    eager = []
    for _ in range(30):
        t = time.perf_counter()
        model(x, training=False)
        eager.append(1000 * (time.perf_counter() - t))
    report["baseline_eager_model_call"] = stats(eager)
    base = report["baseline_eager_model_call"]["median_ms"]
    for mode in report["modes"].values():
        mode["classify_vs_eager"] = round(mode["classify"]["median_ms"] / base, 3)
    report["targets_ms"] = {"none": 20, "Grad-CAM": 60}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2))
    for name, mode in report["modes"].items():
        print(f"{name:>15}: total {mode['total']['median_ms']:6.1f} ms (p90 {mode['total']['p90_ms']:.1f}) | "
              + " ".join(f"{k} {mode[k]['median_ms']:.1f}" for k in ("detect", "classify", "draw", "overlay")))
    print(f"eager model(x) baseline {base:.1f} ms; wrote {args.out}")


if __name__ == "__main__":
    main()
