"""Memory and time of loading FER2013-layout CSVs as they grow -> bench/results/scale.json.

python bench/scale.py [--sizes 1,4,10] [--baseline-rev REV] [--baseline-sizes 1,4] [--work /tmp]

Builds 1x, 4x and 10x copies of FER2013 as plain CSVs in a temporary folder (copy k has every pixel shifted to
(p + k) % 256, so no copy duplicates another; labels and Usage kept), then for each, in fresh subprocesses
measured by /usr/bin/time: the first load (`python -m fer_core data info PATH` with an empty FER_CACHE_DIR),
a cached load (the same again), and `data check PATH` (from the cache): wall seconds, the loader's own
"Loaded in" seconds, and peak RSS. The budget is 3 x pixel bytes + 600 MB. The code before the streaming
reader (--baseline-rev, run from a git worktree) is measured the same way on the smaller sizes, in the same
run. The folder is deleted afterwards.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data"
OUT = REPO / "bench" / "results" / "scale.json"
PIXELS = 48 * 48
MB = 1 << 20
BASELINE_REV = "46bc988~1"  # the last commit before chunked hashing and the streaming CSV reader
TOKENS = np.array([str(v).encode() for v in range(256)], dtype=object)


def read_fer(path: Path, limit: int | None) -> tuple[np.ndarray, list[bytes], list[bytes]]:
    """Pixels (N x 2304 uint8), raw label and Usage fields of the real file (its first `limit` rows)."""
    pixels, labels, usage = [], [], []
    with gzip.open(path, "rb") as fh:
        fh.readline()
        for line in fh:
            lab, pix, use = line.rstrip(b"\r\n").split(b",")
            labels.append(lab)
            usage.append(use)
            pixels.append(np.fromstring(pix, dtype=np.int32, sep=" ").astype(np.uint8))
            if limit and len(labels) == limit:
                break
    return np.stack(pixels), labels, usage


def build_csvs(source: Path, sizes: list[int], folder: Path, limit: int | None = None) -> dict[int, Path]:
    """One CSV per size; the k-th copy of the rows has its pixels shifted by k (mod 256)."""
    pixels, labels, usage = read_fer(source, limit)
    paths = {}
    biggest = max(sizes)
    big = folder / f"fer2013_x{biggest}.csv"
    ends = {}
    with open(big, "wb", buffering=8 * MB) as fh:
        fh.write(b"emotion,pixels,Usage\n")
        for k in range(biggest):
            shifted = ((pixels.astype(np.uint16) + k) % 256).astype(np.uint8)
            fh.writelines(lab + b"," + b" ".join(TOKENS[row]) + b"," + use + b"\n"
                          for lab, row, use in zip(labels, shifted, usage))
            ends[k + 1] = fh.tell()
    paths[biggest] = big
    for size in sizes:
        if size != biggest:  # a prefix of the biggest file: the first `size` copies
            paths[size] = folder / f"fer2013_x{size}.csv"
            with open(big, "rb") as src, open(paths[size], "wb") as dst:
                left = ends[size]
                while left:
                    block = src.read(min(left, 64 * MB))
                    dst.write(block)
                    left -= len(block)
    return paths


def measured(args: list[str], cwd: Path, env: dict) -> dict:
    """Wall seconds, peak RSS (MB) and the loader's 'Loaded in' seconds of one fresh subprocess."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as timing:
        start = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", timing.name, sys.executable, *args],
                              cwd=cwd, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if proc.returncode:
            raise RuntimeError(f"{args} failed in {cwd}:\n{proc.stderr[-3000:]}")
        _, max_kb = timing.read().split()[-2:]
    loaded = re.search(r"Loaded in ([\d.]+) s", proc.stdout)
    version = re.search(r"^version: (\S+)", proc.stdout, re.M)
    return {"wall_s": round(wall, 2), "peak_rss_mb": round(int(max_kb) / 1024, 1),
            "load_s": float(loaded.group(1)) if loaded else None, "version": version.group(1) if version else None}


def measure_code(code: Path, csv: Path, work: Path) -> dict:
    cache = Path(tempfile.mkdtemp(prefix="cache-", dir=work))
    # the 10x file is over the default 2 GB read cap for typed paths: raise it for the bench
    env = {**os.environ, "FER_CACHE_DIR": str(cache), "PYTHONPATH": str(code), "FER_MAX_READ_BYTES": str(64 << 30)}
    for var in ("FER_FERPLUS", "FER_DATA", "FER_DATA_DIR"):
        env.pop(var, None)
    out = {
        "first_load": measured(["-m", "fer_core", "data", "info", str(csv)], code, env),
        "cached_load": measured(["-m", "fer_core", "data", "info", str(csv)], code, env),
        "check": measured(["-m", "fer_core", "data", "check", str(csv)], code, env),
        "cache_mb": round(sum(p.stat().st_size for p in cache.iterdir()) / MB, 1),
    }
    shutil.rmtree(cache)
    return out


def baseline_tree(rev: str, work: Path) -> Path:
    tree = work / "baseline"
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(tree), rev], check=True,
                   capture_output=True)
    return tree


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,4,10")
    parser.add_argument("--baseline-rev", default=BASELINE_REV)
    parser.add_argument("--baseline-sizes", default="1,4")
    parser.add_argument("--work", default=tempfile.gettempdir())
    parser.add_argument("--source", default=str(SHARED / "fer2013.csv.gz"))
    parser.add_argument("--limit-rows", type=int, help="only the first rows of the source (a quick trial; "
                        "the results then go to scale_trial.json)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    baseline_sizes = [int(s) for s in args.baseline_sizes.split(",") if s]
    work = Path(tempfile.mkdtemp(prefix="fer-scale-", dir=args.work))
    tree = None
    try:
        started = time.perf_counter()
        csvs = build_csvs(Path(args.source), sizes, work, args.limit_rows)
        print(f"built {len(csvs)} CSVs in {time.perf_counter() - started:.0f} s", flush=True)
        tree = baseline_tree(args.baseline_rev, work) if baseline_sizes else None
        rows_1x = None
        results = {}
        for size in sorted(sizes):
            csv = csvs[size]
            with open(csv, "rb") as fh:
                rows = sum(block.count(b"\n") for block in iter(lambda: fh.read(64 * MB), b"")) - 1
            rows_1x = rows_1x or rows // size
            pixel_bytes = rows * PIXELS
            entry = {"rows": rows, "csv_mb": round(csv.stat().st_size / MB, 1), "pixel_mb": round(pixel_bytes / MB, 1),
                     "budget_mb": round((3 * pixel_bytes + 600e6) / MB, 1)}
            entry["new"] = measure_code(REPO, csv, work)
            print(size, "new", json.dumps(entry["new"]), flush=True)
            if tree is not None and size in baseline_sizes:
                entry["baseline"] = measure_code(tree, csv, work)
                print(size, "baseline", json.dumps(entry["baseline"]), flush=True)
            for code in ("new", "baseline"):
                if code in entry:
                    entry[code]["within_budget"] = {step: entry[code][step]["peak_rss_mb"] <= entry["budget_mb"]
                                                    for step in ("first_load", "cached_load", "check")}
            results[f"{size}x"] = entry
        smallest, largest = f"{min(sizes)}x", f"{max(sizes)}x"
        per_row = {}
        for code in ("new", "baseline"):
            for step in ("first_load", "check"):
                have = [s for s in (smallest, largest) if code in results[s]]
                if len(have) == 2 and smallest != largest:
                    a, b = (results[s][code][step] for s in have)
                    rows_a, rows_b = results[smallest]["rows"], results[largest]["rows"]
                    per_row[f"{code} {step} wall per row {largest}/{smallest}"] = round(
                        (b["wall_s"] / rows_b) / (a["wall_s"] / rows_a), 3)
                    if a["load_s"] and b["load_s"]:
                        per_row[f"{code} {step} load per row {largest}/{smallest}"] = round(
                            (b["load_s"] / rows_b) / (a["load_s"] / rows_a), 3)
        for size in baseline_sizes:
            entry = results.get(f"{size}x", {})
            if "baseline" in entry:
                per_row[f"{size}x first load wall new/baseline"] = round(
                    entry["new"]["first_load"]["wall_s"] / entry["baseline"]["first_load"]["wall_s"], 3)
        report = {
            "what": "FER2013 CSV at 1x/4x/10x (copy k = pixels + k mod 256): first load (data info, empty cache), "
                    "cached load, data check; peak RSS vs 3 x pixel bytes + 600 MB; baseline = code before the "
                    f"streaming reader ({args.baseline_rev})",
            "units": "MB = 2**20 bytes; budget = 3 x pixel bytes + 600e6 bytes",
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
            "rows_1x": rows_1x,
            "sizes": results,
            "ratios": per_row,
            "same_version_new_vs_baseline": all(
                e["new"]["first_load"]["version"] == e["baseline"]["first_load"]["version"]
                for e in results.values() if "baseline" in e),
        }
        out = OUT.with_name("scale_trial.json") if args.limit_rows else OUT
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {out}")
        print(json.dumps(report["ratios"], indent=2))
    finally:
        if tree is not None:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
