"""Dataset packs: a compact, lossy copy of a dataset (one WebP per image inside one .npz) for carrying to a
GPU host where the original CSV does not fit (the device takes 64 MiB with the code). FER2013 at quality 95
is ~1.1 KB per image, mean error ~1 grey level. Decoding needs only NumPy plus OpenCV or Pillow.

Final numbers are never taken on a pack: evaluate on the exact CSV (`python -m fer_core evaluate --data`).
"""
from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from fer_core.atomic import atomic_path
from fer_core.data.dataset import Dataset, content_hash
from fer_core.errors import DataError

PACK_SUFFIX = ".ferpack.npz"
FORMAT = 1


def is_pack(path: str | os.PathLike) -> bool:
    return str(path).lower().endswith(PACK_SUFFIX)


def _encoder():
    import cv2
    return lambda img, quality: cv2.imencode(".webp", img, [cv2.IMWRITE_WEBP_QUALITY, int(quality)])[1]


def _decoder():
    """OpenCV where installed (the app), else Pillow (GPU hosts usually have it through torchvision)."""
    try:
        import cv2
        return lambda buf: cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    except ImportError:
        pass
    try:
        from PIL import Image
    except ImportError as exc:
        raise DataError("decoding a dataset pack needs OpenCV or Pillow, and neither is installed",
                        fix="pip install pillow (or carry its wheel to the GPU host)") from exc
    return lambda buf: np.asarray(Image.open(io.BytesIO(buf.tobytes())).convert("L"))


def write_pack(ds: Dataset, path: str | os.PathLike, quality: int = 95, splits: list[str] | None = None) -> dict:
    """Write the rows of `splits` (all when None) of `ds` as a pack; returns its metadata (sizes, error)."""
    path = Path(path)
    if not is_pack(path):
        raise DataError(f"a pack's file name must end in {PACK_SUFFIX}", path=str(path))
    if splits:
        missing = set(splits) - set(ds.split_names)
        if missing:
            raise DataError(f"split(s) {', '.join(sorted(missing))} not in {ds.name}", fix=f"choose from {', '.join(ds.split_names)}")
        ds = ds.select(np.isin(ds.splits, splits))
    encode, decode = _encoder(), _decoder()
    chunks = [np.asarray(encode(img, quality), np.uint8).ravel() for img in ds.images]
    offsets = np.concatenate([[0], np.cumsum([len(c) for c in chunks])]).astype(np.int64)
    blob = np.concatenate(chunks) if chunks else np.zeros(0, np.uint8)
    decoded = np.stack([decode(c) for c in chunks])
    error = np.abs(decoded.astype(np.int16) - ds.images.astype(np.int16))
    meta = {"format": FORMAT, "codec": "webp", "quality": int(quality), "source_name": ds.name,
            "source_version": ds.version, "scheme": ds.scheme, "rows": int(len(ds)), "splits": ds.split_names,
            "mean_abs_error": round(float(error.mean()), 3), "max_abs_error": int(error.max(initial=0)),
            "bytes": int(blob.nbytes), "version": content_hash(decoded, ds.labels, ds.splits)}
    arrays = {"blob": blob, "offsets": offsets, "labels": ds.labels.astype(np.int64), "splits": ds.splits.astype(str),
              "ids": ds.ids.astype(str), "meta": np.array(json.dumps(meta))}
    if ds.votes is not None:
        arrays["votes"] = ds.votes
    with atomic_path(path, suffix=".npz") as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)  # the WebP blob stays as it is; labels, ids, votes shrink
    return meta


def read_pack(path: str | os.PathLike) -> Dataset:
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            parts = {k: z[k] for k in z.files}
        meta = json.loads(str(parts["meta"]))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        # NumPy's own words ("pickled data", "zip file") describe its internals, not the problem: the file is
        # damaged (cut short, overwritten) or was not written by `data pack`
        raise DataError("the dataset pack is damaged or not a FER Studio pack", path=str(path),
                        fix="write it again with `python -m fer_core data pack`") from exc
    if meta.get("format") != FORMAT:
        raise DataError(f"pack format {meta.get('format')} is not supported (expected {FORMAT})", path=str(path))
    decode, blob, offsets = _decoder(), parts["blob"], parts["offsets"]
    images = np.stack([decode(blob[offsets[i]:offsets[i + 1]]) for i in range(len(offsets) - 1)]).astype(np.uint8)
    version = content_hash(images, parts["labels"], parts["splits"])
    note = (f"Lossy WebP q{meta['quality']} pack of {meta['source_name']} (data version {meta['source_version']}; "
            f"mean error {meta['mean_abs_error']} grey levels). Take final numbers on the original.")
    return Dataset(name=f"{meta['source_name']} pack ({path.name})", source=str(path), scheme=meta["scheme"],
                   images=images, labels=parts["labels"], splits=parts["splits"], ids=parts["ids"], version=version,
                   votes=parts.get("votes"), notes=(note,))
