"""Training throughput per architecture on this machine -> JSON.

python bench/train_throughput.py [--archs cnn004,cnn002] [--steps 8] [--batch 64] [--out bench/results/...json]

Measures steady-state training images/s (after a warm-up fit that pays tracing/compilation), the
implied FER2013 epoch time (28,709 images), and the NumPy augmentation cost per batch. Figures are also
reported as ratios against the cnn004 baseline measured in the same run.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

FER2013_TRAIN = 28709


def measure(arch: str, steps: int, batch: int, augment: bool) -> dict:
    import keras

    from fer_core.models import ARCHITECTURES, build_model
    from fer_core.training.augment import augment_batch
    from fer_core.training.config import AugmentConfig

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (batch * steps, 48, 48), dtype=np.uint8)
    targets = np.eye(7, dtype=np.float32)[rng.integers(0, 7, batch * steps)]
    cfg = AugmentConfig().as_dict() if augment else None

    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return steps

        def __getitem__(self, i):
            x = images[i * batch:(i + 1) * batch]
            x = augment_batch(x, rng, cfg) if cfg else x.astype(np.float32)
            return x[..., None], targets[i * batch:(i + 1) * batch]

    model = build_model(arch, 7)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    t = time.perf_counter()
    model.fit(Batches(), epochs=1, verbose=0)  # warm-up: tracing and compilation
    warmup = time.perf_counter() - t
    t = time.perf_counter()
    model.fit(Batches(), epochs=1, verbose=0)
    seconds = time.perf_counter() - t
    aug_t = time.perf_counter()
    for _ in range(steps):
        augment_batch(images[:batch], rng, AugmentConfig().as_dict())
    aug_per_batch = (time.perf_counter() - aug_t) / steps
    ips = steps * batch / seconds
    return {"architecture": arch, "parameters": int(model.count_params()), "input_size": ARCHITECTURES[arch].input_size,
            "batch": batch, "steps": steps, "augment": augment, "warmup_s": round(warmup, 2),
            "images_per_s": round(ips, 1), "fer2013_epoch_s": round(FER2013_TRAIN / ips, 1),
            "augment_ms_per_batch": round(1000 * aug_per_batch, 2),
            "augment_share_of_step": round(aug_per_batch / (seconds / steps), 4)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--archs", default="cnn004,cnn002,cbam5cnn,vgg16,efficientnetb3")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--no-augment", action="store_true")
    parser.add_argument("--out")
    args = parser.parse_args()
    from fer_core.training.environment import device_description
    results = [measure(a, args.steps, args.batch, not args.no_augment) for a in args.archs.split(",")]
    base = next((r for r in results if r["architecture"] == "cnn004"), results[0])
    for r in results:
        r["throughput_vs_baseline"] = round(r["images_per_s"] / base["images_per_s"], 3)
    env = device_description()
    out = Path(args.out or Path(__file__).parent / "results" / f"train_throughput_{env['backend']}_{env['device'].replace('/', '_').replace(':', '_')}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"baseline": base["architecture"], "environment": env, "results": results,
               "measured": time.strftime("%Y-%m-%dT%H:%M:%S"), "keras_backend": os.environ.get("KERAS_BACKEND", "tensorflow")}
    out.write_text(json.dumps(payload, indent=2))
    for r in results:
        print(f"{r['architecture']:>15}: {r['images_per_s']:8.1f} img/s, FER2013 epoch {r['fer2013_epoch_s']:7.1f} s, "
              f"x{r['throughput_vs_baseline']:.3f} vs {base['architecture']}, augmentation {r['augment_share_of_step']:.1%} of a step")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
