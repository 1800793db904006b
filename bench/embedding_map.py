"""The Dataset page's map, similar images and near-duplicates on the full FER2013 -> JSON.

python bench/embedding_map.py [--out bench/results/embedding_map.json] [--sheet PATH.png]

Cold = a fresh cache folder in a fresh process, as a first visit meets it: the default model's features of every
image, then UMAP. Warm = reading the map back from disk (what every later visit does). "Similar images" is timed
over 200 random queries. Near-duplicates: pairs by perceptual hash and features; a fixed random sample of the pairs
that are not exact copies is written as a contact sheet (--sheet) for judging by eye, and the judgements, kept in
bench/results/near_duplicates_judged.json, give the precision.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["FER_CACHE_DIR"] = tempfile.mkdtemp(prefix="fer-cache-")  # cold: nothing computed before
import cv2  # noqa: E402
import numpy as np  # noqa: E402
import streamlit_webrtc  # noqa: F401,E402  (before TensorFlow)

from fer_core.data.loading import load_dataset  # noqa: E402
from fer_core.relabel import embeddings  # noqa: E402
from fer_core.runs.store import default_run  # noqa: E402

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
RESULTS = Path(__file__).parent / "results"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(RESULTS / "embedding_map.json"))
    ap.add_argument("--sheet", default=None, help="write a contact sheet of sampled near-duplicate pairs here")
    ap.add_argument("--sample", type=int, default=60)
    args = ap.parse_args()
    ds = load_dataset(SHARED / "fer2013.csv.gz")
    run = default_run()
    t = time.perf_counter()
    feats = embeddings.features(run, ds)
    t_feats = time.perf_counter() - t
    t = time.perf_counter()
    embeddings.layout(run, ds)
    t_map = time.perf_counter() - t
    t = time.perf_counter()
    embeddings.cached_layout(run, ds)
    t_warm = time.perf_counter() - t
    rng = np.random.default_rng(0)
    times = []
    for row in rng.integers(0, len(ds), 200):
        t = time.perf_counter()
        embeddings.similar(feats, int(row), 12)
        times.append(1000 * (time.perf_counter() - t))
    t = time.perf_counter()
    hashes = embeddings.phash(ds.images)
    pairs = embeddings.near_duplicate_pairs(hashes, feats)
    groups = embeddings.groups_from_pairs(pairs, len(ds))
    t_near = time.perf_counter() - t
    same = np.array([np.array_equal(ds.images[i], ds.images[j]) for i, j in pairs], bool)
    near_only = pairs[~same]
    sample = near_only[np.sort(rng.choice(len(near_only), min(args.sample, len(near_only)), replace=False))]
    judged_file = RESULTS / "near_duplicates_judged.json"
    judged = json.loads(judged_file.read_text()) if judged_file.exists() else {}
    verdicts = [judged.get("verdicts", {}).get(f"{ds.ids[i]}-{ds.ids[j]}") for i, j in sample]
    known = [v for v in verdicts if v is not None]
    out = {"data": ds.source, "images": len(ds), "model": run.id, "machine": f"{os.cpu_count()} cores",
           "date": time.strftime("%Y-%m-%d %H:%M"),
           "first_time_s": {"features": round(t_feats, 1), "umap_map": round(t_map, 1),
                            "total": round(t_feats + t_map, 1)},
           "cached_map_load_s": round(t_warm, 3),
           "similar_ms": {"median": round(float(np.median(times)), 2), "p95": round(float(np.percentile(times, 95)), 2)},
           "near_duplicates": {"max_hash_bits": 10, "max_cosine_distance": 0.03, "pairs": int(len(pairs)),
                               "pairs_not_exact_copies": int(len(near_only)), "groups": len(groups),
                               "seconds": round(t_near, 1), "sample_judged": len(known),
                               "precision_on_sample": round(sum(known) / len(known), 3) if known else None,
                               "sample": [f"{ds.ids[i]}-{ds.ids[j]}" for i, j in sample]}}
    if args.sheet:
        tiles = []
        for k, (i, j) in enumerate(sample):
            pair = np.concatenate([cv2.resize(ds.images[i], (96, 96)), np.full((96, 4), 255, np.uint8),
                                   cv2.resize(ds.images[j], (96, 96))], axis=1)
            pair = cv2.copyMakeBorder(pair, 14, 4, 4, 4, cv2.BORDER_CONSTANT, value=255)
            cv2.putText(pair, str(k), (4, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, 0, 1)
            tiles.append(pair)
        rows = [np.concatenate(tiles[r:r + 6] + [np.full_like(tiles[0], 255)] * (6 - len(tiles[r:r + 6])), axis=1)
                for r in range(0, len(tiles), 6)]
        cv2.imwrite(args.sheet, np.concatenate(rows, axis=0))
    Path(args.out).write_text(json.dumps(out, indent=2))
    print(json.dumps({k: v for k, v in out.items()}, indent=2)[:3000])


if __name__ == "__main__":
    main()
