"""Face datasets in the layouts their authors distribute (RAF-DB, AffectNet, JAFFE, ExpW), recognised from the path.

Each reader module has NAME, WHERE (where the dataset is obtained), `root_of(path)` (the dataset's folder when
`path` is, or is inside, its layout; else None) and `read(path)` -> rows, how to get each row's face, the label
files that key the cache, and notes. `build.build_dataset` turns that into a cached, memory-mapped Dataset.
"""
from __future__ import annotations

from pathlib import Path

from fer_core.data.dataset import Dataset
from fer_core.data.layouts import affectnet, expw, jaffe, rafdb
from fer_core.errors import DataError

READERS = {"rafdb": rafdb, "affectnet": affectnet, "jaffe": jaffe, "expw": expw}

# what a folder holds when it is almost one of the layouts: (marker, layout, what is missing)
NEAR_MISSES = (
    ("EmoLabel", "rafdb", "EmoLabel/list_patition_label.txt"),
    ("basic", "rafdb", "basic/EmoLabel/list_patition_label.txt"),
    ("Manually_Annotated_Images", "affectnet", "Manually_Annotated_file_lists/training.csv or validation.csv"),
    ("Manually_Annotated_file_lists", "affectnet", "training.csv or validation.csv with AffectNet's header"),
    ("origin", "expw", "label/label.lst"),
    ("label", "expw", "label/label.lst"),
)


def find_layout(path: Path) -> str | None:
    """The name of the layout `path` is in, or None."""
    for name, reader in READERS.items():
        try:
            if reader.root_of(path) is not None:
                return name
        except OSError:
            continue
    return None


def near_miss(path: Path) -> DataError | None:
    """An error naming the layout a folder almost follows (a marker folder present, its label file missing)."""
    if not path.is_dir():
        return None
    for marker, name, missing in NEAR_MISSES:
        if (path / marker).is_dir():
            reader = READERS[name]
            return DataError(f"this looks like {reader.NAME} ({marker}/ is here) but {missing} is missing",
                             path=str(path), fix=f"unpack {reader.NAME} as distributed: {reader.WHERE}")
    if any(p.suffix.lower() in jaffe.SUFFIXES for p in path.iterdir()):
        return DataError("this folder holds .tiff images but their names do not follow JAFFE's "
                         "<poser>.<code><n>.<id>.tiff", path=str(path),
                         fix="keep JAFFE's file names as distributed, or sort the images into class folders")
    return None


def load_layout(path: Path, name: str) -> Dataset:
    from fer_core.data.layouts.build import build_dataset

    reader = READERS[name]
    rows, face_of, label_files, notes = reader.read(path)
    return build_dataset(layout=name, title=reader.NAME, source=path, scheme=name, label_files=label_files, rows=rows,
                         face_of=face_of, notes=notes, groups_of=jaffe.poser if name == "jaffe" else None)


def layouts_table() -> list[dict]:
    """One row per layout for the README and `data layouts`: name, scheme, where to get it, what it expects."""
    return [{"layout": name, "dataset": r.NAME, "where": r.WHERE, "expects": (r.__doc__ or "").strip()}
            for name, r in READERS.items()]
