"""Team curation under load: N annotators, each its own process making the Relabel page's calls (the team queue's
`next_rows`, then `label` per image) on the real FER2013 as fast as they can, for a fixed time; on PostgreSQL and
on SQLite, then the same with one annotator process killed with SIGKILL every few seconds and restarted -> JSON.

python bench/team_load.py [--seconds 300] [--annotators 20] [--k 3] [--kill-every 20]
                          [--backends postgresql,sqlite] [--out bench/results/team_load.json]

Each process appends a line to its own log only after `label` returned (the page says "Saved" at that point).
After each phase: lost = logged labels missing from the store; duplicated = an annotator with two label events on
one image, or an image with more than k labels; the consensus (Dawid–Skene) and a 'resolved' export are compared
with a recomputation from the raw event log in plain Python. PostgreSQL is the local test server
(FER_TEST_DATABASE_URL, or Debian's cluster started as the tests do).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data" / "fer2013.csv.gz"


def worker(args) -> None:
    """One annotator: the calls the Relabel page makes in team mode, as fast as the store answers."""
    from fer_core.data.loading import load_dataset
    from fer_core.data.schemes import UNMAPPED, map_labels
    from fer_core.relabel.project import RelabelProject
    from fer_core.relabel.roles import Actor
    ds = load_dataset(args.data)
    project = RelabelProject(args.project, ds)
    actor = Actor(args.annotator)
    truth = map_labels(ds.labels, ds.scheme, project.target.name)
    rng = random.Random(args.annotator)
    go = Path(args.go)
    Path(args.log + ".ready").touch()
    while not go.exists():
        time.sleep(0.05)
    until = float(go.read_text())
    with open(args.log, "a") as log:
        while time.time() < until:
            t = time.perf_counter()
            rows = project.team.next_rows(actor, 20)
            log.write(f"assign\t{1000 * (time.perf_counter() - t):.2f}\n")
            if not len(rows):
                time.sleep(0.2)
                continue
            for row in rows:
                if time.time() >= until:
                    break
                label = int(truth[row]) if truth[row] != UNMAPPED and rng.random() < 0.8 else rng.randrange(10)
                t = time.perf_counter()
                project.label(int(row), actor.name, label, session=args.annotator)
                log.write(f"saved\t{ds.ids[row]}\t{label}\t{1000 * (time.perf_counter() - t):.2f}\n")
                log.flush()  # in the kernel before the next call: a SIGKILL cannot take it back


def start_worker(name: str, env: dict, folder: Path, project: str, go: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, __file__, "--worker", "--annotator", name, "--project", project,
                             "--log", str(folder / f"{name}.log"), "--go", str(go), "--data", str(DATA)],
                            env=env, stdout=subprocess.DEVNULL, stderr=open(folder / f"{name}.err", "a"))


def replay(history: list[dict]) -> dict:
    """The standing label of every (image, annotator), from the raw events in id order (plain Python)."""
    current = {}
    for e in sorted(history, key=lambda e: e["id"]):
        current[(e["image_id"], e["annotator"])] = e["label"]
    return {key: lab for key, lab in current.items() if lab is not None}


def phase(backend: str, pg_url: str | None, seconds: float, n: int, k: int, kill_every: float | None) -> dict:
    import pandas as pd

    from fer_core.data import consensus as cons
    from fer_core.data.loading import load_dataset
    from fer_core.relabel.project import RelabelProject, delete_project
    from fer_core.relabel.roles import Actor
    folder = Path(tempfile.mkdtemp(prefix=f"team-load-{backend}-"))
    env = {**os.environ, "FER_RELABEL_DIR": str(folder / "relabel"), "PYTHONPATH": str(REPO)}
    env.pop("FER_DATABASE_URL", None)
    if backend == "postgresql":
        env["FER_DATABASE_URL"] = pg_url
        os.environ["FER_DATABASE_URL"] = pg_url
    else:
        os.environ.pop("FER_DATABASE_URL", None)
    os.environ["FER_RELABEL_DIR"] = env["FER_RELABEL_DIR"]
    name = f"load-{uuid.uuid4().hex[:8]}"
    ds = load_dataset(DATA)
    project = RelabelProject(name, ds)
    project.team.configure(Actor.operator(), k=k, method="dawid-skene")
    go = folder / "go"
    names = [f"ann{i:02d}" for i in range(n)]
    procs = {a: start_worker(a, env, folder, name, go) for a in names}
    while not all((folder / f"{a}.log.ready").exists() for a in names):
        time.sleep(0.2)
        dead = [a for a, p in procs.items() if p.poll() is not None]
        if dead:
            raise RuntimeError(f"{dead[0]} died: {(folder / f'{dead[0]}.err').read_text()[-2000:]}")
    start = time.time()
    go.write_text(str(start + seconds))
    kills = 0
    next_kill = start + (kill_every or 1e12)
    while time.time() < start + seconds:
        time.sleep(0.2)
        if time.time() >= next_kill:
            victim = random.Random(kills).choice(names)
            procs[victim].send_signal(signal.SIGKILL)
            procs[victim].wait()
            procs[victim] = start_worker(victim, env, folder, name, go)  # the same person opens the page again
            kills += 1
            next_kill += kill_every
    for p in procs.values():
        p.wait(timeout=120)
    elapsed = time.time() - start

    saved, assign_ms, write_ms = [], [], []
    for a in names:
        for line in (folder / f"{a}.log").read_text().splitlines():
            parts = line.split("\t")
            if parts[0] == "saved" and len(parts) == 4:
                saved.append((parts[1], a, int(parts[2])))
                write_ms.append(float(parts[3]))
            elif parts[0] == "assign" and len(parts) == 2:
                assign_ms.append(float(parts[1]))
    history = project.store.history()
    events = {(e["image_id"], e["annotator"], e["label"]) for e in history if e["action"] == "label"}
    lost = [s for s in saved if s not in events]
    per_pair: dict = {}
    for e in history:
        if e["action"] == "label":
            per_pair[(e["image_id"], e["annotator"])] = per_pair.get((e["image_id"], e["annotator"]), 0) + 1
    standing = replay(history)
    per_image: dict = {}
    for (i, _a) in standing:
        per_image[i] = per_image.get(i, 0) + 1
    # consensus: the store's path (SQL) against the replayed events
    table = project.team.consensus("dawid-skene")
    raw = pd.DataFrame([(i, a, lab) for (i, a), lab in standing.items()], columns=["task", "worker", "label"])
    again = cons.estimate(raw, len(project.target.classes), "dawid-skene")
    same_consensus = (table.index.sort_values().equals(again.index.sort_values())
                      and (table["label"] == again.loc[table.index, "label"]).all()
                      and np.allclose(table["confidence"], again.loc[table.index, "confidence"], atol=1e-9))
    # export: what the admin writes against the replayed events
    csv = project.export(folder / "export", "resolved", images=False, actor=Actor.operator())
    meta = json.loads(csv.with_name(csv.name + ".meta.json").read_text())
    exported = dict(zip(meta["ids"], pd.read_csv(csv)["emotion"].astype(int)))
    single = {i: lab for (i, _a), lab in standing.items() if per_image[i] == 1}  # a lone label is exported as given
    expected = {i: int(single[i]) if i in single else int(again.loc[i, "label"]) for i in again.index}
    same_export = exported == expected and all(
        s == ("consensus" if per_image[i] >= 2 else "single") for i, s in zip(meta["ids"], meta["label_sources"]))
    out = {"backend": backend, "annotators": n, "k": k, "seconds": round(elapsed, 1),
           "kill_every_s": kill_every, "kills": kills,
           "labels_saved": len(saved), "labels_per_s": round(len(saved) / elapsed, 1),
           "write_ms": {"p50": round(float(np.percentile(write_ms, 50)), 2),
                        "p95": round(float(np.percentile(write_ms, 95)), 2)} if write_ms else None,
           "next_images_ms": {"p50": round(float(np.percentile(assign_ms, 50)), 1),
                              "p95": round(float(np.percentile(assign_ms, 95)), 1)} if assign_ms else None,
           "events_in_store": len(history), "lost": len(lost),
           "duplicated": sum(1 for c in per_pair.values() if c > 1),
           "images_over_k": sum(1 for c in per_image.values() if c > k),
           "images_with_k": sum(1 for c in per_image.values() if c == k),
           "consensus_matches_recomputation": bool(same_consensus),
           "export_matches_recomputation": bool(same_export)}
    delete_project(name, Actor.operator())
    print(json.dumps(out), flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", action="store_true")
    parser.add_argument("--annotator")
    parser.add_argument("--project")
    parser.add_argument("--log")
    parser.add_argument("--go")
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--annotators", type=int, default=20)
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--kill-every", type=float, default=20)
    parser.add_argument("--backends", default="postgresql,sqlite")
    parser.add_argument("--out", default=str(REPO / "bench" / "results" / "team_load.json"))
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    from postgres import server_url
    pg_url, why = server_url()
    results = []
    for backend in args.backends.split(","):
        if backend == "postgresql" and pg_url is None:
            raise SystemExit(why)
        for kill in (None, args.kill_every):
            results.append(phase(backend, pg_url, args.seconds, args.annotators, args.k, kill))
    report = {"measured": time.strftime("%Y-%m-%dT%H:%M:%S"), "cpu_cores": os.cpu_count(), "data": DATA.name,
              "what": "N annotator processes making the Relabel page's team calls (next_rows, label) as fast as "
                      "the store answers; lost/duplicated/consensus/export checked against the raw event log",
              "phases": results}
    Path(args.out).write_text(json.dumps(report, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
