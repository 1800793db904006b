"""All runs under models/: listing (broken ones included, with their problem), the default run, cut-off runs
that can be resumed, and run names resolved to folders."""
from __future__ import annotations

import os
from pathlib import Path

from fer_core.errors import RunError
from fer_core.runs import layout
from fer_core.runs.run import Run, read_json
from fer_core.settings import models_dir


def _root(root: Path | str | None) -> Path:
    return Path(root) if root else models_dir()


_READ = (layout.MODEL, layout.CONFIG, layout.METRICS, layout.RECORD, layout.CARD)  # what Run.load reads
_LOADED: dict[str, tuple[tuple, Run]] = {}  # run folder -> (its files' stat signature, the Run read then)


def _load_cached(folder: Path) -> Run:
    """Run.load, again only when one of the files it reads changed: pages list the runs on every rerun (a
    keypress on Relabel), and reading a few dozen runs' JSON costs ~15 ms each time. Runs are never mutated."""
    signature = []
    for name in _READ:
        try:
            st = os.stat(folder / name)
            signature.append((st.st_mtime_ns, st.st_size, st.st_ino))
        except OSError:
            signature.append(None)
    key, signature = str(folder), tuple(signature)
    hit = _LOADED.get(key)
    if hit is not None and hit[0] == signature:
        return hit[1]
    if len(_LOADED) > 4096:  # many short-lived folders (tests): start over rather than grow
        _LOADED.clear()
    run = Run.load(folder)
    _LOADED[key] = (signature, run)
    return run


def list_runs(root: Path | str | None = None, *, include_broken: bool = True) -> list[Run]:
    """Every finished run folder (one with a model file, or a config written at the end), oldest first."""
    root = _root(root)
    if not root.is_dir():
        return []
    runs = []
    for d in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if d.name.endswith(layout.PARTIAL):
            continue
        if not ((d / layout.MODEL).exists() or (d / layout.RECORD).exists() or (d / layout.CONFIG).exists()):
            continue
        run = _load_cached(d)
        if include_broken or not run.broken:
            runs.append(run)
    return runs


def usable_runs(root: Path | str | None = None) -> list[Run]:
    return list_runs(root, include_broken=False)


def pointed_run(root: Path | str | None = None) -> Run | None:
    """The usable run models/default_run.txt names, or None (no pointer, or it names a missing or broken run)."""
    root = _root(root)
    pointer = root / layout.DEFAULT_POINTER
    if not pointer.is_file():
        return None
    wanted = pointer.read_text().strip()
    named = root / wanted
    # a run id names a folder directly under models/, as list_runs() lists them: never a path elsewhere
    if not wanted or wanted.startswith(".") or Path(wanted).name != wanted or wanted.endswith(layout.PARTIAL) \
            or not named.is_dir():
        return None
    run = _load_cached(named)
    return None if run.broken else run


def default_run(root: Path | str | None = None) -> Run | None:
    """The usable run named in models/default_run.txt, else the newest usable run, else None."""
    pointed = pointed_run(root)
    if pointed is not None:
        return pointed
    runs = usable_runs(root)
    return runs[-1] if runs else None


def checkpoint_state(run_dir: Path | str) -> dict:
    """The state of a .partial run's last checkpoint ({} when it has none): epochs_done, history, fit_seconds."""
    run_dir = Path(run_dir)
    if not (run_dir / layout.CHECKPOINT_DIR / layout.CHECKPOINT).exists():
        return {}
    return read_json(run_dir / layout.CHECKPOINT_DIR / layout.STATE)


def still_training(run_dir: Path) -> bool:
    try:
        pid = int((run_dir / layout.OWNER).read_text())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return True


def cut_off_runs(root: Path | str | None = None) -> list[dict]:
    """Runs that stopped before finishing (killed, crashed, machine restarted) and can be resumed from a checkpoint."""
    root = _root(root)
    out = []
    for d in sorted(root.glob(f"*{layout.PARTIAL}")) if root.is_dir() else []:
        if still_training(d):
            continue
        state, config = checkpoint_state(d), read_json(d / layout.CONFIG)
        tc = config.get("train_config")
        if state.get("epochs_done") and isinstance(tc, dict):
            out.append({"id": d.name, "path": str(d), "architecture": tc.get("architecture"),
                        "epochs_done": state["epochs_done"], "epochs": (tc.get("epochs") or 0) + (tc.get("head_epochs") or 0)})
    return out


def empty_partials(root: Path | str | None = None) -> list[Path]:
    """Cut-off runs with nothing to resume (killed before their first checkpoint, or failed before training)."""
    root = _root(root)
    return [d for d in sorted(root.glob(f"*{layout.PARTIAL}")) if root.is_dir()
            if d.is_dir() and not still_training(d) and not checkpoint_state(d).get("epochs_done")]


def clean_empty_partials(root: Path | str | None = None) -> list[str]:
    """Delete the folders empty_partials() lists; returns their names."""
    import shutil
    removed = []
    for d in empty_partials(root):
        shutil.rmtree(d, ignore_errors=True)
        removed.append(d.name)
    return removed


def find_runs(root: Path, name: str) -> tuple[Path | None, Path | None]:
    """(newest finished run, newest cut-off run with a checkpoint) named `name` under root."""
    finished = partial = None
    for d in sorted(root.iterdir()) if root.is_dir() else []:
        if not d.is_dir() or layout.run_name_of(d.name) != name:
            continue
        if d.name.endswith(layout.PARTIAL):
            if checkpoint_state(d).get("epochs_done"):
                partial = d
        elif (d / layout.MODEL).exists():
            finished = d
    return finished, partial


def resolve_runs(entries: list[str], root: Path | str | None = None) -> list[str]:
    """Run folders as given, run ids under models/ (as recipes name their teachers), or run names -> the newest
    finished run of that name under models/."""
    root = _root(root)
    out = []
    for entry in entries:
        folder = next((f for f in (Path(entry), root / entry) if (f / layout.MODEL).exists()), None)
        if folder is not None:
            out.append(str(folder))
            continue
        finished, _ = find_runs(root, entry)
        if finished is None:
            raise RunError(f"no finished run named '{entry}' under {root}", fix="train it first, or give a run folder")
        out.append(str(finished))
    return out


def default_selection(runs: list[Run], default: Run | None, n: int = 2) -> list[str]:
    """Run ids a comparison opens with: the default model (so it never disappears) and the newest other runs."""
    ids = [r.id for r in runs if not r.broken]
    first = [default.id] if default is not None and default.id in ids else []
    rest = [i for i in reversed(ids) if i not in first][: n - len(first)]
    return first + rest[::-1]
