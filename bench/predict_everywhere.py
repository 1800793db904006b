"""The 3,589 PrivateTest faces through every way out of the app: the same accuracy everywhere, and what
reading files costs -> JSON.

python bench/predict_everywhere.py [--out bench/results/predict_everywhere.json]

Paths: FER.classify on the arrays in memory (ONNX Runtime, and Keras), FER.predict_batch on the arrays, the
`predict` CLI on the images written as PNG files (a real process), the REST server's batch endpoint (a real
`serve --detector none` process) and the exported ONNX file. Folder throughput is images/s of `predict_paths`
on the PNG folder against `predict_batch` on the same arrays, in this process.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import cv2  # noqa: E402
import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data"


def accuracy(top: list[str], labels: np.ndarray, names: list[str]) -> float:
    return float(np.mean([names.index(t) == y for t, y in zip(top, labels)]))


def main():
    from fer_core.api import FER
    from fer_core.data.loading import load_dataset
    from fer_core.inference.export import export_run
    from fer_core.inference.predict_files import predict_paths
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "predict_everywhere.json"))
    args = parser.parse_args()
    ds = load_dataset(SHARED / "fer2013.csv.gz")
    keep = ds.splits == "PrivateTest"
    images, labels = ds.images[keep], ds.labels[keep]
    fer = FER(detector=None)
    names = fer.class_names
    recorded = fer.run.metrics["test"]["accuracy"]
    report = {"model": fer.model_id, "faces": len(images), "recorded_test_accuracy": recorded, "accuracy": {},
              "throughput": {}}
    report["accuracy"]["FER.classify (onnx)"] = float((fer.classify(images).argmax(1) == labels).mean())
    report["accuracy"]["FER.classify (keras)"] = float(
        (FER(detector=None, backend="keras").classify(images).argmax(1) == labels).mean())
    t = time.perf_counter()
    batch = fer.predict_batch(images)
    in_memory_s = time.perf_counter() - t
    report["accuracy"]["FER.predict_batch"] = accuracy([r[0].top for r in batch], labels, names)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "private_test"
        folder.mkdir()
        for i, img in enumerate(images):
            cv2.imwrite(str(folder / f"{i:05d}.png"), img)
        with open(os.devnull, "w") as sink:
            t = time.perf_counter()
            summary = predict_paths(fer, [str(folder)], stream=sink, progress=False)
            folder_s = time.perf_counter() - t
        report["throughput"] = {"predict_batch_in_memory_images_per_s": round(len(images) / in_memory_s, 1),
                                "predict_paths_png_folder_images_per_s": round(summary.images / folder_s, 1),
                                "io_overhead_ratio": round(folder_s / in_memory_s, 2)}
        t = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "fer_core", "predict", str(folder), "--detector", "none",
                              "--out", str(Path(tmp) / "rows.csv"), "--no-progress"], cwd=REPO,
                             capture_output=True, text=True)
        report["throughput"]["cli_wall_s_including_startup"] = round(time.perf_counter() - t, 2)
        assert out.returncode == 0, out.stderr
        rows = {Path(r["path"]).stem: r["label"] for r in csv.DictReader(open(Path(tmp) / "rows.csv"))}
        report["accuracy"]["predict CLI (PNG folder)"] = accuracy([rows[f"{i:05d}"] for i in range(len(images))],
                                                                  labels, names)
        onnx_path = export_run(fer.run, "onnx", out=Path(tmp) / "fer.onnx")
        report["accuracy"]["exported ONNX file"] = float(
            (FER(onnx_path, detector=None).classify(images).argmax(1) == labels).mean())
        from fer_core.server.local import local_server
        with local_server("--detector", "none", cwd=REPO, wait_s=240, stderr=subprocess.DEVNULL) as (_, port):
            import httpx
            tops = []
            with httpx.Client(timeout=120) as client:
                for start in range(0, len(images), 32):
                    files = [("images", (f"{i}.png", (folder / f"{i:05d}.png").read_bytes(), "image/png"))
                             for i in range(start, min(start + 32, len(images)))]
                    r = client.post(f"http://127.0.0.1:{port}/v1/analyze/batch", files=files)
                    tops += [x["faces"][0]["top"] for x in r.json()["results"]]
            report["accuracy"]["REST server (batch endpoint)"] = accuracy(tops, labels, names)
    report["all_equal_to_recorded"] = all(abs(a - recorded) < 1e-9 for a in report["accuracy"].values())
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
