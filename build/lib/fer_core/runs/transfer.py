"""Move finished runs between machines through size-limited channels (a GPU host returns at most 16 MiB per
file): `bundle` tars runs (no checkpoints) into numbered parts with a manifest holding each part's SHA-256;
`unbundle` checks every part and unpacks the runs into models/, never over an existing run."""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
from pathlib import Path

from fer_core.atomic import write_text
from fer_core.errors import StoreError
from fer_core.runs import layout
from fer_core.settings import models_dir

MANIFEST = "bundle.json"
RUN_FILES_SKIPPED = {layout.CHECKPOINT_DIR}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def bundle_runs(run_dirs: list[str | os.PathLike], out_dir: str | os.PathLike, part_mb: float = 15.0) -> dict:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    names = []
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for run in map(Path, run_dirs):
            if run.name.endswith(layout.PARTIAL) or not (run / layout.MODEL).exists():
                raise StoreError("only finished runs can be bundled", path=str(run),
                                fix="finish or resume the run first (python -m fer_core train --resume)")
            tar.add(run, arcname=run.name, filter=lambda t: None if Path(t.name).parts[1:2] and
                    Path(t.name).parts[1] in RUN_FILES_SKIPPED else t)
            names.append(run.name)
    data = buf.getvalue()
    size = max(int(part_mb * 2**20), 1)
    parts = []
    for i in range(0, max(len(data), 1), size):
        chunk = data[i:i + size]
        name = f"runs.tar.part{len(parts):03d}"
        (out_dir / name).write_bytes(chunk)
        parts.append({"file": name, "bytes": len(chunk), "sha256": _sha256(chunk)})
    manifest = {"runs": names, "bytes": len(data), "sha256": _sha256(data), "parts": parts}
    write_text(out_dir / MANIFEST, json.dumps(manifest, indent=2))
    return manifest


def unbundle_runs(folders: list[str | os.PathLike], into: str | os.PathLike | None = None) -> list[Path]:
    """Find the manifest and parts in `folders` (parts may arrive through different folders), verify, extract."""
    folders = [Path(f) for f in folders]
    manifest = next((json.loads((f / MANIFEST).read_text()) for f in folders if (f / MANIFEST).exists()), None)
    if manifest is None:
        raise StoreError(f"no {MANIFEST} in {', '.join(map(str, folders))}", fix="pass the folder(s) written by `runs bundle`")
    chunks = []
    for part in manifest["parts"]:
        found = [f / part["file"] for f in folders if (f / part["file"]).exists()]
        if not found:
            raise StoreError(f"part {part['file']} is missing", fix="fetch every part listed in bundle.json")
        chunk = found[0].read_bytes()
        if _sha256(chunk) != part["sha256"]:
            raise StoreError(f"part {part['file']} is damaged (checksum differs)", path=str(found[0]), fix="fetch it again")
        chunks.append(chunk)
    data = b"".join(chunks)
    if _sha256(data) != manifest["sha256"]:
        raise StoreError("the reassembled bundle does not match its checksum", fix="fetch all parts again")
    into = Path(into) if into else models_dir()
    into.mkdir(parents=True, exist_ok=True)
    existing = [n for n in manifest["runs"] if (into / n).exists()]
    if existing:
        raise StoreError(f"run(s) already present: {', '.join(existing)}", path=str(into), fix="remove them first")
    staging = into / f".unbundle-{os.getpid()}"
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            tar.extractall(staging, filter="data")
        for name in manifest["runs"]:
            os.replace(staging / name, into / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [into / n for n in manifest["runs"]]
