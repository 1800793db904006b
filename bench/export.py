"""Exported models against Keras: parity on 1,000 PrivateTest faces and latency in one process -> JSON.

python bench/export.py [--run models/<run-id>] [--out bench/results/export.json]

Latency: median of interleaved calls at batch 1 and batch 256 for the TensorFlow compiled call (what the app
used before; XLA at batch 1 when faster), ONNX Runtime (fp32, fp16) and LiteRT (fp32, fp16), all in this process.
The baseline is the TensorFlow call measured in the same run; `FER` uses ONNX Runtime on CPU when it is faster.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import numpy as np  # noqa: E402

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def median_ms(fns: dict, x: np.ndarray, calls: int) -> dict:
    """Interleaved: every backend once per round, so drift on the machine hits all alike."""
    times = {k: [] for k in fns}
    for fn in fns.values():
        for _ in range(3):
            fn(x)
    for _ in range(calls):
        for k, fn in fns.items():
            t = time.perf_counter()
            fn(x)
            times[k].append(1000 * (time.perf_counter() - t))
    return {k: round(float(np.median(v)), 4) for k, v in times.items()}


def main():
    from fer_core.api import FER, default_model_path
    from fer_core.data.loading import load_dataset
    from fer_core.inference.export import export_run
    from fer_core.models.predict import compiled_call, predict_probs
    from fer_core.runs.loader import load_model
    from fer_core.runs.run import Run
    parser = argparse.ArgumentParser()
    parser.add_argument("--run")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "export.json"))
    args = parser.parse_args()
    run = Run.load(args.run or default_model_path())
    ds = load_dataset(SHARED / "fer2013.csv.gz")
    keep = ds.splits == "PrivateTest"
    faces, labels = ds.images[keep][:1000], ds.labels[keep][:1000]
    model = load_model(run)
    reference = predict_probs(model, faces)
    report = {"run": run.id, "faces": len(faces), "keras_accuracy": float((reference.argmax(1) == labels).mean()),
              "parity": {}, "latency_ms": {}}
    backends = {}
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("onnx", "tflite"):
            for fp16 in (False, True):
                name = f"{fmt}{'-fp16' if fp16 else ''}"
                t = time.perf_counter()
                path = export_run(run, fmt, out=Path(tmp) / f"m-{name}.{fmt}", fp16=fp16)
                fer = FER(path, detector=None)
                probs = fer.classify(faces)
                report["parity"][name] = {
                    "export_s": round(time.perf_counter() - t, 2), "size_mb": round(path.stat().st_size / 2**20, 2),
                    "max_abs_diff": float(np.abs(probs - reference).max()),
                    "accuracy": float((probs.argmax(1) == labels).mean()),
                    "same_top_class": float((probs.argmax(1) == reference.argmax(1)).mean())}
                backends[name] = fer.model._call
        call = compiled_call(model)
        fns = {"tensorflow_compiled": lambda x: np.asarray(call(x)), **backends}
        for batch, calls in ((1, 200), (256, 20)):
            x = np.ascontiguousarray(faces[:batch, ..., None].astype(np.float32))
            lat = median_ms(fns, x, calls)
            base = lat["tensorflow_compiled"]
            report["latency_ms"][f"batch{batch}"] = {k: {"ms": v, "vs_tensorflow": round(v / base, 3)}
                                                   for k, v in lat.items()}
    report["uses_xla_at_batch1"] = bool(getattr(call, "uses_xla", False))
    onnx1 = report["latency_ms"]["batch1"]["onnx"]["vs_tensorflow"]
    onnx256 = report["latency_ms"]["batch256"]["onnx"]["vs_tensorflow"]
    report["decision"] = ("FER uses ONNX Runtime on CPU by default" if onnx1 < 1 and onnx256 < 1
                          else "ONNX Runtime is not faster here: FER should default to Keras")
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
