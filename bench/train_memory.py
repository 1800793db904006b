"""Memory of one training epoch as the dataset grows -> bench/results/train_memory.json.

python bench/train_memory.py [--sizes 1,10] [--steps 100] [--baseline-rev REV] [--csv-dir DIR] [--work /tmp]

For each size (FER2013 copies built as bench/scale.py builds them, or taken from --csv-dir), the cache is written
once (`data info`, not measured), then `python -m fer_core train --epochs 1 --max-steps N` runs in its own process
for this tree and for the baseline revision (a git worktree; by default the code that copied every split out of the
mapped cache), alternately. While it runs, /proc/PID/status is sampled every 50 ms: peak RSS (VmHWM), and the peaks
of its two parts, anonymous memory (RssAnon: arrays the process made) and mapped file pages (RssFile: pages of the
cache it has read, which the kernel drops under pressure and never swaps). Issue #35: training must read the mapped
arrays without copying them whole, and train at 10x without swapping.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "results" / "train_memory.json"
BASELINE_REV = "8f3df99~1"  # the last commit before splits became Rows of the mapped cache
FIELDS = ("VmHWM", "RssAnon", "RssFile")


def _scale():
    sys.path.insert(0, str(REPO / "bench"))
    import scale
    return scale


def _status(pid: int) -> dict[str, int]:
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in FIELDS:
                out[key] = int(value.split()[0])
    except (OSError, ValueError):
        pass
    return out


def _swap_used_kb() -> int:
    info = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    return int(info["SwapTotal"].split()[0]) - int(info["SwapFree"].split()[0])


def train_once(code: Path, csv: Path, cache: Path, steps: int) -> dict:
    models = Path(tempfile.mkdtemp(prefix="models-", dir=cache.parent))
    env = {**os.environ, "FER_CACHE_DIR": str(cache), "FER_MODELS_DIR": str(models), "PYTHONPATH": str(code),
           "FER_MAX_READ_BYTES": str(64 << 30)}
    cmd = [sys.executable, "-m", "fer_core", "train", "--data", str(csv), "--arch", "cnn004", "--epochs", "1",
           "--max-steps", str(steps), "--out", str(models)]
    swap_before = _swap_used_kb()
    peaks = dict.fromkeys(FIELDS, 0)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=code, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = []
    reader = threading.Thread(target=lambda: output.extend(proc.stdout), daemon=True)
    reader.start()
    while proc.poll() is None:
        for key, value in _status(proc.pid).items():
            peaks[key] = max(peaks[key], value)
        time.sleep(0.05)
    wall = time.perf_counter() - start
    reader.join(5)
    shutil.rmtree(models, ignore_errors=True)
    if proc.returncode:
        raise RuntimeError(f"training failed in {code}:\n{''.join(output)[-3000:]}")
    return {"wall_s": round(wall, 1), "peak_rss_mb": round(peaks["VmHWM"] / 1024, 1),
            "peak_anon_mb": round(peaks["RssAnon"] / 1024, 1), "peak_file_mb": round(peaks["RssFile"] / 1024, 1),
            "swap_grew_mb": round(max(_swap_used_kb() - swap_before, 0) / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,10")
    parser.add_argument("--steps", type=int, default=100, help="batches in the measured epoch")
    parser.add_argument("--baseline-rev", default=BASELINE_REV)
    parser.add_argument("--csv-dir", help="take fer2013_x{size}.csv from here instead of building them")
    parser.add_argument("--work", default=tempfile.gettempdir())
    args = parser.parse_args()
    scale = _scale()
    sizes = [int(s) for s in args.sizes.split(",")]
    work = Path(tempfile.mkdtemp(prefix="fer-train-memory-", dir=args.work))
    tree = scale.baseline_tree(args.baseline_rev, work)
    try:
        if args.csv_dir:
            csvs = {size: Path(args.csv_dir) / f"fer2013_x{size}.csv" for size in sizes}
        else:
            csvs = scale.build_csvs(scale.SHARED / "fer2013.csv.gz", sizes, work)
        results = {}
        for size in sizes:
            cache = work / f"cache-{size}x"
            env = {**os.environ, "FER_CACHE_DIR": str(cache), "FER_MAX_READ_BYTES": str(64 << 30)}
            subprocess.run([sys.executable, "-m", "fer_core", "data", "info", str(csvs[size])], cwd=REPO, env=env,
                           check=True, capture_output=True)
            entry = {"rows": 35887 * size}
            for code, name in ((tree, "baseline"), (REPO, "new")):
                entry[name] = train_once(code, csvs[size], cache, args.steps)
                print(size, name, json.dumps(entry[name]), flush=True)
            entry["anon_new_over_baseline"] = round(entry["new"]["peak_anon_mb"] / entry["baseline"]["peak_anon_mb"], 3)
            entry["rss_new_over_baseline"] = round(entry["new"]["peak_rss_mb"] / entry["baseline"]["peak_rss_mb"], 3)
            results[f"{size}x"] = entry
            shutil.rmtree(cache, ignore_errors=True)
        report = {
            "what": f"one training epoch (cnn004, {args.steps} steps, warm cache, own process), this tree vs "
                    f"{args.baseline_rev}: peak RSS and its anonymous / mapped-file parts",
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
            "date": time.strftime("%Y-%m-%d %H:%M"),
            "sizes": results,
        }
        OUT.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {OUT}")
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
