"""Sweep throughput on this machine: trials per hour with one worker and with two on the same study -> JSON.

python bench/sweep_rate.py [--trials 6] [--spec fer_core/sweeps/templates/demo.json]
    -> bench/results/sweep_rate.json

Both runs use the same spec (random sampler, no pruner, so every trial does the same work) in a fresh
models folder and SQLite storage; wall clock from the first process start to the last exit, Python and
TensorFlow start-up included, as a user sees it. The two-worker figure is reported as a ratio to the
one-worker figure measured in the same run.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def _spec(path: Path, trials: int, study: str, folder: Path) -> Path:
    raw = json.loads(path.read_text())
    raw.update(study=study, trials=trials, sampler="random", pruner="none")
    out = folder / f"{study}.json"
    out.write_text(json.dumps(raw))
    return out


def _last_json(text: str) -> dict:
    """The indented JSON object `--json` prints last (trial progress lines come before it)."""
    text = text.strip()
    start = 0 if text.startswith("{") and "\n{" not in text else text.rfind("\n{") + 1
    try:
        return json.loads(text[start:])
    except ValueError:
        return {}


def _run(workers: int, spec_file: Path, trials: int) -> dict:
    folder = Path(tempfile.mkdtemp(prefix=f"sweep-rate-{workers}-"))
    study = f"rate-{workers}"
    spec = _spec(spec_file, trials, study, folder)
    storage = f"sqlite:///{folder / 'study.db'}"
    env = {**os.environ, "FER_MODELS_DIR": str(folder / "models"), "TF_CPP_MIN_LOG_LEVEL": "2"}
    cli = [sys.executable, "-m", "fer_core", "sweep"]
    t = time.perf_counter()
    first = subprocess.Popen(cli + ["run", str(spec), "--storage", storage, "--json"], cwd=REPO, env=env,
                             stdout=subprocess.PIPE, text=True)
    others = []
    if workers > 1:
        time.sleep(3)  # `sweep run` creates the study; the others join it
        others = [subprocess.Popen(cli + ["worker", study, "--storage", storage, "--json"], cwd=REPO, env=env,
                                   stdout=subprocess.PIPE, text=True) for _ in range(workers - 1)]
    outputs = [p.communicate()[0] for p in [first, *others]]
    seconds = time.perf_counter() - t
    summary = _last_json(outputs[0])
    counts = summary.get("counts", {})
    done = counts.get("complete", 0)
    return {"workers": workers, "trials": trials, "complete": done, "counts": counts, "wall_s": round(seconds, 1),
            "trials_per_hour": round(3600 * done / seconds, 1),
            "ran_per_worker": [_last_json(o).get("ran") for o in outputs]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--spec", default=str(REPO / "fer_core" / "sweeps" / "templates" / "demo.json"))
    args = parser.parse_args()
    from fer_core.training.environment import device_description
    rows = [_run(1, Path(args.spec), args.trials), _run(2, Path(args.spec), args.trials)]
    rows[1]["vs_one_worker"] = round(rows[1]["trials_per_hour"] / rows[0]["trials_per_hour"], 3)
    out = REPO / "bench" / "results" / "sweep_rate.json"
    out.write_text(json.dumps({"spec": Path(args.spec).name, "environment": device_description(),
                               "cpu_count": os.cpu_count(), "results": rows,
                               "measured": time.strftime("%Y-%m-%dT%H:%M:%S")}, indent=2))
    for r in rows:
        print(f"{r['workers']} worker(s): {r['complete']}/{r['trials']} trials in {r['wall_s']} s "
              f"= {r['trials_per_hour']} trials/hour")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
