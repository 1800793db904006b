"""Evaluate a saved run, or an ensemble of runs, on any dataset/split it can map to.

Results are cached per (members, model files, data version, split, TTA, leak exclusion) in the cache
folder, so the Compare page and the CLI give the same numbers and the second look is instant.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from fer_core.atomic import atomic_path, write_text
from fer_core.data.dataset import Dataset
from fer_core.data.ferplus import GROUND_TRUTHS, votes_labels
from fer_core.data.loading import load_dataset
from fer_core.data.quality import image_hashes, leaked
from fer_core.data.rows import Rows
from fer_core.data.schemes import UNMAPPED, get_scheme, map_labels, mapping_table
from fer_core.errors import DataError
from fer_core.evaluation.metrics import full_metrics
from fer_core.evaluation.stats import bootstrap_ci
from fer_core.models.predict import predict_probs, tta_mode
from fer_core.runs.loader import load_model
from fer_core.runs.run import Run
from fer_core.settings import cache_dir

EVAL_FORMAT = 4  # 4: shared and absent classes named; 3: latency through FER (2: compiled_call; 1: predict_on_batch)
ALL_SPLITS = "all"


@dataclass
class Evaluation:
    name: str
    members: list[str]
    dataset: str
    data_version: str
    split: str
    tta: str
    exclude_leaks: bool
    excluded_leaks: int
    class_names: list[str]
    unmapped: dict  # dataset class with no counterpart in the model's scheme -> rows left out
    metrics: dict
    ci: dict
    parameters: int
    file_size_mb: float
    latency_ms: dict = field(default_factory=dict)
    ground_truth: str = "labels"
    shared: dict = field(default_factory=dict)  # dataset class -> the model's class it is scored as
    absent: list = field(default_factory=list)  # the model's classes with no row here (predicting one is an error)
    ids: np.ndarray | None = None
    y_true: np.ndarray | None = None
    probs: np.ndarray | None = None

    @property
    def correct(self) -> np.ndarray:
        return self.probs.argmax(axis=1) == self.y_true

    def summary_row(self) -> dict:
        m = self.metrics
        return {"model": self.name, "dataset": self.dataset, "n": m["n"], "accuracy": m["accuracy"],
                "accuracy 95% CI": f"{self.ci['accuracy_ci'][0]:.4f}–{self.ci['accuracy_ci'][1]:.4f}",
                "macro F1": m["macro_f1"], "macro F1 95% CI": f"{self.ci['macro_f1_ci'][0]:.4f}–{self.ci['macro_f1_ci'][1]:.4f}",
                "balanced acc": m["balanced_accuracy"], "weighted F1": m["weighted_f1"],
                "macro precision": m["macro_precision"], "macro recall": m["macro_recall"],
                "AUC (OvR)": m["auc_ovr_macro"], "Cohen κ": m["cohen_kappa"], "log loss": m["log_loss"], "ECE": m["ece"],
                "latency b1 ms": self.latency_ms.get("batch1"), "latency b64 ms/img": self.latency_ms.get("batch64_per_image"),
                "params": self.parameters, "size MB": round(self.file_size_mb, 2),
                "leaks excluded": self.excluded_leaks, "TTA": self.tta, "ground truth": self.ground_truth}

    def to_json(self) -> dict:
        d = asdict(self)
        for k in ("ids", "y_true", "probs"):
            d.pop(k)
        return d


def measure_latency(run, repeats: int = 20) -> dict:
    """Median inference latency of a run's face classifier through `FER`, the path the Live page, the CLI and the
    server use (ONNX Runtime on CPU when it converts, else the compiled Keras call)."""
    from fer_core.api import FER
    fer = FER(run, detector=None)
    size = fer.model.input_size
    out = {"backend": fer.model.name}
    for batch in (1, 64):
        x = np.random.default_rng(0).integers(0, 256, (batch, size, size), dtype=np.uint8)
        fer.classify(x)  # warm-up (tracing)
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            fer.classify(x)
            times.append(time.perf_counter() - t)
        out[f"batch{batch}"] = round(1000 * float(np.median(times)), 3)
    out["batch64_per_image"] = round(out["batch64"] / 64, 4)
    return out


def _ensemble_latency(records) -> dict:
    """An ensemble runs every member: its latency is the members' sum."""
    lat: dict = {}
    for r in records:
        one = measure_latency(r)
        lat["backend"] = "+".join(sorted({*lat.get("backend", "").split("+"), one.pop("backend")} - {""}))
        lat.update({k: round(lat.get(k, 0) + v, 4) for k, v in one.items()})
    return lat


_HASH_CACHE: dict[str, np.ndarray] = {}


def _image_hashes(ds: Dataset) -> np.ndarray:
    if ds.version not in _HASH_CACHE:
        _HASH_CACHE[ds.version] = image_hashes(ds.images)
    return _HASH_CACHE[ds.version]


def evaluation_rows(ds: Dataset, split: str, scheme: str, exclude_leaks: bool, train_split: str = "Training"):
    """Rows to score, their labels in the model's scheme, what could not be mapped, and leaks excluded."""
    table = mapping_table(ds.scheme, scheme)
    if table is None:
        raise DataError(f"labels of {ds.name} ({ds.scheme}) cannot be mapped to the model's scheme '{scheme}'",
                        fix=f"add a '{ds.scheme}->{scheme}' mapping to schemes.json")
    in_split = np.ones(len(ds), bool) if split == ALL_SPLITS else ds.splits == split
    if not in_split.any():
        raise DataError(f"split '{split}' is empty in {ds.name}", fix=f"choose one of {', '.join(ds.split_names)} or 'all'")
    labels = map_labels(ds.labels, ds.scheme, scheme)
    unmapped_rows = in_split & (labels == UNMAPPED) & (ds.labels != UNMAPPED)
    names = get_scheme(ds.scheme).classes
    unmapped = {names[c]: int(n) for c, n in enumerate(np.bincount(ds.labels[unmapped_rows], minlength=len(names))) if n}
    rows = in_split & (labels != UNMAPPED)
    excluded = 0
    if exclude_leaks and split not in (ALL_SPLITS, train_split):
        leaks = rows & leaked(_image_hashes(ds), ds.splits, split, train_split)
        excluded = int(leaks.sum())
        rows &= ~leaks
    idx = np.flatnonzero(rows)
    return idx, labels[idx], unmapped, excluded


def class_correspondence(data_scheme: str, model_scheme: str, y_true: np.ndarray) -> tuple[dict, list]:
    """Which dataset class is scored as which model class, and the model's classes no scored row has."""
    table = mapping_table(data_scheme, model_scheme)
    src, dst = get_scheme(data_scheme).classes, get_scheme(model_scheme).classes
    shared = {src[i]: dst[j] for i, j in enumerate(table) if j != UNMAPPED}
    present = set(np.unique(y_true).tolist())
    return shared, [c for k, c in enumerate(dst) if k not in present]


def class_coverage_lines(ev: Evaluation) -> list[str]:
    """What a cross-dataset score covers, in words: the classes scored (where names differ), those left out, and
    the model's classes the data has no images of. Nothing when the dataset is in the model's own classes."""
    lines = []
    if any(a != b for a, b in ev.shared.items()) or ev.unmapped:
        lines.append("scored on the classes both have: " + ", ".join(a if a == b else f"{a} → {b}"
                                                                        for a, b in ev.shared.items()) + ".")
    if ev.unmapped:
        lines.append("left out (no counterpart among the model's classes): "
                     + ", ".join(f"{k} ({v:,} images)" for k, v in ev.unmapped.items()) + ".")
    if ev.absent:
        lines.append(f"no images of {', '.join(ev.absent)} here: the model can still predict "
                     f"{'it' if len(ev.absent) == 1 else 'them'}, and each such prediction counts as an error.")
    return lines


def default_ground_truth(label_source: str) -> str:
    """Runs trained on FERPlus votes are scored on FERPlus majority labels (the FERPlus convention)."""
    return {"plurality": "plurality", "majority": "majority", "probability": "majority",
            "dawid-skene": "majority"}.get(label_source, "labels")


def with_ground_truth(ds: Dataset, ground_truth: str) -> Dataset:
    if ground_truth == "labels":
        return ds
    if ground_truth not in GROUND_TRUTHS:
        raise DataError(f"unknown ground truth '{ground_truth}'", fix=f"use one of {', '.join(GROUND_TRUTHS)}")
    return ds.with_labels(votes_labels(ds, ground_truth), "ferplus")


def _cache_key(records, version, split, tta, exclude_leaks, ground_truth="labels") -> str:
    parts = [f"{r.path}|{r.model_mtime}" for r in records] + [version, split, str(tta), str(exclude_leaks),
                                                                     str(EVAL_FORMAT), ground_truth]
    return hashlib.sha1("||".join(parts).encode()).hexdigest()[:20]


def evaluate(run_dirs, data: str | None = None, split: str = "PrivateTest", tta: bool = False,
             exclude_leaks: bool = False, use_cache: bool = True, latency: bool = True,
             ground_truth: str | None = None, progress=None) -> Evaluation:
    """Evaluate one run (or an ensemble: several runs whose probabilities are averaged). `progress(fraction)` is
    called as predictions are made (not on a cache hit)."""
    if isinstance(run_dirs, (str, Path)):
        run_dirs = [run_dirs]
    records = [Run.load(r).require_usable() for r in run_dirs]
    tta = tta_mode(tta)
    if len({tuple(r.class_names) for r in records}) != 1:
        raise DataError("ensemble members predict different class lists", fix="combine runs trained on the same scheme")
    data = data or records[0].data_path()
    ground_truth = ground_truth or default_ground_truth(records[0].label_source)
    ds = with_ground_truth(load_dataset(data), ground_truth)
    scheme = records[0].scheme
    key = _cache_key(records, ds.version, split, tta, exclude_leaks, ground_truth)
    cache_json, cache_npz = cache_dir() / f"eval-{key}.json", cache_dir() / f"eval-{key}.npz"
    name = records[0].id if len(records) == 1 else "ensemble(" + " + ".join(r.id for r in records) + ")"
    if use_cache and cache_json.exists() and cache_npz.exists():
        try:
            meta = json.loads(cache_json.read_text())
            with np.load(cache_npz, allow_pickle=False) as z:
                cached = Evaluation(**meta, ids=z["ids"], y_true=z["y_true"], probs=z["probs"])
        except (OSError, ValueError, KeyError, TypeError):
            cached = None  # rebuild below
        if cached is not None:
            if latency and not cached.latency_ms:  # cached by a call that skipped timing: time it now
                cached.latency_ms = _ensemble_latency(records)
                write_text(cache_json, json.dumps(cached.to_json()))
            return cached
    idx, y_true, unmapped, excluded = evaluation_rows(ds, split, scheme, exclude_leaks, records[0].train_split)
    probs_sum, params = None, 0
    for k, r in enumerate(records):
        model = load_model(r)
        step = None if progress is None else (lambda f, k=k: progress((k + f) / len(records)))
        p = predict_probs(model, Rows(ds.images, idx), tta, progress=step)
        probs_sum = p if probs_sum is None else probs_sum + p
        params += int(model.count_params())
    lat = _ensemble_latency(records) if latency else {}
    probs = probs_sum / len(records)
    classes = records[0].class_names
    shared, absent = class_correspondence(ds.scheme, scheme, y_true)
    ev = Evaluation(name=name, members=[r.id for r in records], dataset=ds.name, data_version=ds.version,
                    split=split, tta=tta, exclude_leaks=exclude_leaks, excluded_leaks=excluded, class_names=classes,
                    unmapped=unmapped, metrics=full_metrics(y_true, probs, classes),
                    ci=bootstrap_ci(y_true, probs.argmax(axis=1), len(classes)), parameters=params,
                    file_size_mb=sum(r.file_size_mb for r in records), latency_ms=lat,
                    ground_truth=ground_truth, shared=shared, absent=absent, ids=ds.ids[idx], y_true=y_true,
                    probs=probs)
    if use_cache:
        with atomic_path(cache_npz, suffix=".npz") as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, ids=ev.ids, y_true=ev.y_true, probs=ev.probs)
        write_text(cache_json, json.dumps(ev.to_json()))
    return ev
