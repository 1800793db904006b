"""Training throughput per architecture on this machine -> JSON.

python bench/train_throughput.py [--archs cnn004,cnn002] [--steps 8] [--batch 64] [--out bench/results/...json]
python bench/train_throughput.py --engine fernet [--steps 24]   # -> bench/results/train_engine_fernet.json

`--engine ARCH` measures the training engine's settings for one architecture, each in its own process (the
Keras backend is fixed per process), through the engine's own batch sequence and optimizer: TensorFlow vs
JAX, XLA on/off, intra-op threads, batch size, augmentation threads, and the same fit without augmentation
(if augmentation is overlapped with compute, it costs nothing). Ratios are against the engine's default
before XLA (TensorFlow, no XLA, all cores, batch 64, one augmentation thread), measured in the same run.

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


ENGINE_SETTINGS = [  # (name, settings); the first is the baseline: the engine before XLA became its default
    ("tensorflow, no XLA (engine before)", {"jit": False}),
    ("tensorflow + XLA (engine default)", {"jit": True}),
    ("tensorflow + XLA, 1 intra-op thread", {"jit": True, "threads": 1}),
    ("tensorflow + XLA, batch 32", {"jit": True, "batch": 32}),
    ("tensorflow + XLA, batch 128", {"jit": True, "batch": 128}),
    ("tensorflow + XLA, 2 augmentation threads", {"jit": True, "workers": 2}),
    ("tensorflow + XLA, no augmentation (compute only)", {"jit": True, "augment": False}),
    ("tensorflow, no XLA, no augmentation", {"jit": False, "augment": False}),
    ("jax (XLA)", {"backend": "jax"}),
    ("jax, 2 augmentation threads", {"backend": "jax", "workers": 2}),
]


def engine_child(arch: str, steps: int, settings: dict) -> dict:
    """One setting, in this process: warm-up epoch (tracing/compilation), then a timed epoch of `steps` steps."""
    if settings.get("threads") and os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow":
        import tensorflow as tf
        tf.config.threading.set_intra_op_parallelism_threads(settings["threads"])
    import keras

    from fer_core.models import build_model
    from fer_core.training.batches import AugmentedBatches
    from fer_core.training.config import TrainConfig
    from fer_core.training.fit import make_optimizer

    batch = settings.get("batch", 64)
    cfg = TrainConfig(architecture=arch, data="demo", batch_size=batch, optimizer="sgd", learning_rate=0.05,
                      lr_schedule="cosine", label_smoothing=0.1)
    rng = np.random.default_rng(0)
    n = batch * steps
    images = rng.integers(0, 256, (n, 48, 48), dtype=np.uint8)
    targets = np.eye(7, dtype=np.float32)[rng.integers(0, 7, n)]
    augment = cfg.augment_dict() if settings.get("augment", True) else None
    batches = AugmentedBatches(images, targets, np.ones(n, np.float32), batch_size=batch, seed=0, augment=augment,
                               workers=settings.get("workers", 1))
    model = build_model(arch, 7)
    model.compile(optimizer=make_optimizer(cfg, cfg.learning_rate, 2 * steps),
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1), metrics=["accuracy"],
                  jit_compile=bool(settings.get("jit", settings.get("backend") == "jax")))
    t = time.perf_counter()
    model.fit(batches, epochs=1, verbose=0)
    warmup = time.perf_counter() - t
    t = time.perf_counter()
    model.fit(batches, epochs=2, initial_epoch=1, verbose=0)
    seconds = time.perf_counter() - t
    t = time.perf_counter()
    for i in range(min(steps, 8)):
        batches[i]
    data_s = (time.perf_counter() - t) / min(steps, 8)
    ips = n / seconds
    return {"images_per_s": round(ips, 1), "fer2013_epoch_s": round(FER2013_TRAIN / ips, 1),
            "warmup_s": round(warmup, 2), "batch_prep_ms": round(1000 * data_s, 2),
            "batch_prep_share_of_step": round(data_s / (seconds / steps), 3), "backend": keras.backend.backend()}


def engine_matrix(arch: str, steps: int) -> Path:
    import subprocess

    from fer_core.training.environment import device_description
    rows = []
    for name, settings in ENGINE_SETTINGS:
        env = {**os.environ, "KERAS_BACKEND": settings.get("backend", "tensorflow"), "TF_CPP_MIN_LOG_LEVEL": "2"}
        out = subprocess.run([sys.executable, __file__, "--engine-child", json.dumps(
            {"arch": arch, "steps": steps, "settings": settings})], env=env, capture_output=True, text=True)
        if out.returncode != 0:
            rows.append({"setting": name, **settings, "error": out.stderr.strip().splitlines()[-1][:300]})
        else:
            rows.append({"setting": name, **settings, **json.loads(out.stdout.strip().splitlines()[-1])})
        print(json.dumps(rows[-1]), flush=True)
    base = rows[0].get("images_per_s")
    for r in rows:
        if base and r.get("images_per_s"):
            r["throughput_vs_engine_default"] = round(r["images_per_s"] / base, 3)
    path = Path(__file__).parent / "results" / f"train_engine_{arch}.json"
    path.write_text(json.dumps({"architecture": arch, "steps": steps, "baseline": rows[0]["setting"],
                                "environment": device_description(), "results": rows,
                                "measured": time.strftime("%Y-%m-%dT%H:%M:%S")}, indent=2))
    return path


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--engine-child":
        job = json.loads(sys.argv[2])
        print(json.dumps(engine_child(job["arch"], job["steps"], job["settings"])))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", metavar="ARCH", help="measure the engine's settings for ARCH (see above)")
    parser.add_argument("--archs", default="cnn004,cnn002,cbam5cnn,vgg16,efficientnetb3")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--no-augment", action="store_true")
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.engine:
        print(f"wrote {engine_matrix(args.engine, args.steps)}")
        return
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
