"""Host-side augmentation throughput with 1..N worker threads (what `data_workers` buys) -> JSON.

python bench/augment_workers.py [--batches 200] [--batch 64] [--threads 1,2,4] [--out bench/results/augment_workers.json]

Uses the GPU recipes' augmentation (affine + brightness + random erasing + CutMix) through the same PyDataset
the trainer uses, on real FER2013 images when ../shared/data is present (random pixels otherwise). Reports
batches/s and the ratio against one thread measured in the same run. A GPU step of a small CNN takes ~2-3 ms,
so the host must deliver a batch in about that time to keep the GPU busy.
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

RECIPE = Path(__file__).resolve().parent.parent / "gpu" / "recipes" / "02-resnet18.json"


def images_for_bench(n: int) -> tuple[np.ndarray, str]:
    shared = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "fer2013.csv.gz"
    if shared.exists():
        from fer_core.data.loading import load_dataset
        return load_dataset(shared).images[:n], "FER2013 Training"
    return np.random.default_rng(0).integers(0, 256, (n, 48, 48), dtype=np.uint8), "random pixels"


def measure(images, targets, cfg, threads: int, batches: int) -> float:
    from concurrent.futures import ThreadPoolExecutor

    from fer_core.training.batches import training_batches
    seq = training_batches(images, targets, np.ones(len(images), np.float32), cfg)
    n = min(batches, len(seq))
    start = time.perf_counter()
    if threads == 1:
        for i in range(n):
            seq[i]
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(seq.__getitem__, range(n)))
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--out", default="bench/results/augment_workers.json")
    args = parser.parse_args()
    from fer_core.training.config import TrainConfig
    cfg = TrainConfig.from_dict({**json.loads(RECIPE.read_text()), "batch_size": args.batch})
    images, source = images_for_bench(args.batches * args.batch)
    targets = np.eye(7, dtype=np.float32)[np.random.default_rng(1).integers(0, 7, len(images))]
    measure(images, targets, cfg, 1, 5)  # warm-up
    rows = []
    for t in map(int, args.threads.split(",")):
        rate = measure(images, targets, cfg, t, args.batches)
        rows.append({"threads": t, "batches_per_s": round(rate, 1), "ms_per_batch": round(1000 / rate, 2)})
    base = rows[0]["batches_per_s"]
    for r in rows:
        r["ratio_vs_1_thread"] = round(r["batches_per_s"] / base, 2)
    result = {"what": "augment_training_batch via the trainer's PyDataset", "augment": cfg.augment_dict(),
              "batch": args.batch, "images": source, "cpu_count": os.cpu_count(), "rows": rows}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
