"""JAFFE as distributed (https://zenodo.org/record/3451524): one folder of 256x256 grey `*.tiff` photos named
`<poser>.<code><n>.<id>.tiff`, e.g. `KA.AN1.39.tiff` (AN, DI, FE, HA, NE, SA, SU).

The photos show the head and shoulders, so the face is found by the app's own detector (eyes levelled, cropped as
at inference). Ten posers: splits are by poser (the last two, by name, are PrivateTest and PublicTest), so no person
is in two splits.
"""
from __future__ import annotations

import re
from pathlib import Path

from fer_core.data.layouts.faces import FaceFinder, Row
from fer_core.data.schemes import get_scheme
from fer_core.errors import DataError

NAME = "JAFFE"
WHERE = "https://zenodo.org/record/3451524 (free for non-commercial research, on request)"
PATTERN = re.compile(r"^([A-Za-z]+)\.([A-Za-z]{2})(\d*)\.(\d+)\.tiff?$")
SUFFIXES = (".tiff", ".tif")


def _tiffs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES and p.is_file())


def root_of(path: Path) -> Path | None:
    """A folder whose .tiff files are mostly named like JAFFE's (or its jaffe/ or jaffedbase/ subfolder)."""
    if not path.is_dir():
        return None
    for candidate in (path, path / "jaffedbase", path / "jaffe"):
        if candidate.is_dir():
            tiffs = _tiffs(candidate)
            if tiffs and sum(bool(PATTERN.match(p.name)) for p in tiffs) * 2 >= len(tiffs):
                return candidate
    return None


def read(path: Path):
    root = root_of(path)
    scheme = get_scheme("jaffe")
    codes = {c: scheme.index(c) for c in ("AN", "DI", "FE", "HA", "NE", "SA", "SU")}
    parsed, odd = [], []
    for file in _tiffs(root):
        m = PATTERN.match(file.name)
        if not m or m.group(2).upper() not in codes:
            odd.append(file.name)
            continue
        parsed.append((file, m.group(1).upper(), codes[m.group(2).upper()]))
    if odd:
        raise DataError(f"{NAME}: {len(odd)} .tiff file name(s) do not follow <poser>.<code><n>.<id>.tiff with a code "
                        f"in AN DI FE HA NE SA SU, e.g. {odd[0]!r}", path=str(root),
                        fix="keep the names as distributed, or move other images out of the folder")
    posers = sorted({poser for _, poser, _ in parsed})
    held = {posers[-1]: "PrivateTest", posers[-2]: "PublicTest"} if len(posers) >= 3 else {}
    rows = [Row(file, label, held.get(poser, "Training"), file.name) for file, poser, label in parsed]
    finder = FaceFinder()
    notes = [f"Faces: found by the app's detector in each photo. {len(posers)} posers; splits by poser "
             f"({', '.join(f'{p} = {s}' for p, s in held.items()) or 'all Training'})."]
    return rows, lambda gray, row: finder(gray), [root], notes


def poser(row: Row) -> str:
    """The person a row shows (the dataset's groups: splits and cross-validation never mix a person's photos)."""
    return row.id.split(".", 1)[0].upper()
