"""A relabelling project: a source dataset, a target scheme (FER2024), a LabelStore; queues, progress,
agreement, export and import."""
from __future__ import annotations

import json
import os
import re
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score

from fer_core.atomic import write_text
from fer_core.data.csv_format import write_fer_csv
from fer_core.data.dataset import Dataset
from fer_core.data.ferplus import votes_disagreement
from fer_core.data.quality import QualityReport
from fer_core.data.schemes import UNMAPPED, get_scheme
from fer_core.data.sidecar import SIDECAR_SUFFIX, read_sidecar, sidecar_path
from fer_core.errors import DataError, StoreError
from fer_core.relabel.database import database_for
from fer_core.relabel.roles import Actor, require
from fer_core.relabel.store import LabelStore
from fer_core.settings import REPO_ROOT

TARGET_SCHEME = "fer2024"
KEYS = tuple("1234567890")  # one key per class, in scheme order


def projects_dir() -> Path:
    return Path(os.environ.get("FER_RELABEL_DIR", REPO_ROOT / ".fer_studio" / "relabel"))


def safe_name(name: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", name.strip())[:60].strip("-.")
    if not name:
        raise DataError("empty name", fix="use letters, digits, '-' or '_'")
    return name


@dataclass
class QueueFilter:
    classes: tuple[str, ...] = ()  # original-label class names (empty = all)
    split: str = "All"
    unlabelled_only: bool = True
    ferplus_disagreement: bool = False
    duplicates_or_leaks: bool = False
    ranking: np.ndarray | None = None  # row indices ordered by likely label error (model-assisted queue)
    only_rows: np.ndarray | None = None  # a selection (e.g. on the Dataset page's map): nothing outside it


class RelabelProject:
    def __init__(self, name: str, ds: Dataset, target: str = TARGET_SCHEME):
        self.name = safe_name(name)
        self.ds = ds
        self.target = get_scheme(target)
        if len(self.target.classes) > len(KEYS):
            raise DataError(f"scheme '{target}' has more than {len(KEYS)} classes; one key per class is not possible")
        self.store = LabelStore(database_for(self.name, projects_dir()))
        known = self.store.meta("dataset_version")
        if known is None:
            self.store.set_meta("dataset_version", ds.version)
            self.store.set_meta("dataset_source", ds.source)
        self.version_mismatch = known is not None and known != ds.version
        self.row_of = {i: n for n, i in enumerate(ds.ids.tolist())}

    @property
    def team(self):
        """Team curation on this project: k labels per image, consensus, review (`relabel.team`)."""
        from fer_core.relabel.team import Team
        return Team(self)

    # ---- queues ----
    def queue(self, f: QueueFilter, annotator: str, quality: QualityReport | None = None) -> np.ndarray:
        ds = self.ds
        mask = np.ones(len(ds), bool)
        if f.split != "All":
            mask &= ds.splits == f.split
        if f.classes:
            wanted = [ds.class_names.index(c) for c in f.classes]
            mask &= np.isin(ds.labels, wanted)
        if f.unlabelled_only and annotator:
            done = set(self.store.labels_of(annotator))
            mask &= ~np.isin(ds.ids, list(done))
        if f.ferplus_disagreement and ds.votes is not None:
            mask &= votes_disagreement(ds, "majority")[0]
        if f.duplicates_or_leaks and quality is not None:
            flagged = np.zeros(len(ds), bool)
            for g in quality.duplicate_groups:
                flagged[g] = True
            for rows in quality.leaks.values():
                flagged[rows] = True
            mask &= flagged
        if f.only_rows is not None:
            chosen = np.zeros(len(ds), bool)
            chosen[np.asarray(f.only_rows, dtype=int)] = True
            mask &= chosen
        if f.ranking is not None:
            return np.asarray(f.ranking, dtype=int)[mask[np.asarray(f.ranking, dtype=int)]]
        return np.flatnonzero(mask)

    # ---- labelling ----
    def label(self, row: int, annotator: str, label: int, session: str | None = None) -> None:
        self.store.set_label(self.ds.ids[row], annotator, label, session)

    def undo(self, annotator: str, session: str | None = None) -> list[int]:
        """Undo the latest step of `session` (a label, or a whole grid page); the rows it reverted."""
        return [self.row_of[i] for i in self.store.undo(annotator, session) if i in self.row_of]

    def mask_of(self, image_ids) -> np.ndarray:
        """Boolean row mask of the given image ids (ids not in the dataset are ignored)."""
        mask = np.zeros(len(self.ds), bool)
        mask[[self.row_of[i] for i in image_ids if i in self.row_of]] = True
        return mask

    def label_for(self, row: int, annotator: str) -> int | None:
        return self.store.labels_of(annotator).get(str(self.ds.ids[row]))

    # ---- progress ----
    def progress(self, annotator: str, queue_rows: np.ndarray | None = None) -> dict:
        mine = self.store.labels_of(annotator)
        all_labels = self.store.current()
        labelled_images = {i for i, _ in all_labels}
        out = {"mine": len(mine), "images_labelled_by_anyone": len(labelled_images), "total": len(self.ds),
               "labels_per_hour": labels_per_hour(self.store.label_times(annotator)),
               "per_class": dict(Counter(self.target.classes[v] for v in mine.values()))}
        if queue_rows is not None:
            ids = set(self.ds.ids[queue_rows].tolist())
            out["queue_total"] = len(queue_rows)
            out["queue_labelled"] = len(ids & set(mine))
        return out

    def transition_matrix(self, annotator: str | None = None) -> pd.DataFrame:
        """Counts original class (rows) -> new label (columns), over the annotator's (or everyone's) labels."""
        labels = self.store.current(annotator)
        table = np.zeros((len(self.ds.class_names), len(self.target.classes)), dtype=int)
        for (image_id, _), new in labels.items():
            row = self.row_of.get(image_id)
            if row is not None and self.ds.labels[row] != UNMAPPED:
                table[self.ds.labels[row], new] += 1
        return pd.DataFrame(table, index=list(self.ds.class_names), columns=list(self.target.classes))

    # ---- agreement ----
    def agreement(self) -> dict:
        labels = self.store.current()
        by_image: dict[str, dict] = {}
        for (image_id, annotator), lab in labels.items():
            if not annotator.startswith("import:"):
                by_image.setdefault(image_id, {})[annotator] = lab
        annotators = sorted({a for d in by_image.values() for a in d})
        shared = {i: d for i, d in by_image.items() if len(d) >= 2}
        out = {"annotators": annotators, "images_with_2plus": len(shared), "pairwise_cohen": {}, "fleiss": None,
               "disagreements": []}
        for i, a in enumerate(annotators):
            for b in annotators[i + 1:]:
                both = [(d[a], d[b]) for d in shared.values() if a in d and b in d]
                if len(both) >= 2:
                    x, y = zip(*both)
                    out["pairwise_cohen"][f"{a} vs {b}"] = {"kappa": float(cohen_kappa_score(x, y)), "n": len(both)}
        if shared:
            out["fleiss"] = fleiss_kappa([list(d.values()) for d in shared.values()], len(self.target.classes))
        for image_id, d in shared.items():
            if len(set(d.values())) > 1:
                out["disagreements"].append({"id": image_id, **{a: self.target.classes[v] for a, v in d.items()}})
        return out

    # ---- export / import ----
    def consensus(self, policy: str = "majority", annotator: str | None = None) -> dict:
        """image id -> label. policy 'annotator' uses one annotator's labels; 'majority' needs a strict winner;
        'resolved' takes a reviewer's decision, else the team's consensus, else the single label."""
        if policy == "resolved":
            return self.team.resolved()["label"].to_dict()
        labels = self.store.current()
        if policy == "annotator":
            return {i: lab for (i, a), lab in labels.items() if a == annotator}
        votes: dict[str, Counter] = {}
        for (i, _), lab in labels.items():
            votes.setdefault(i, Counter())[lab] += 1
        out = {}
        for i, c in votes.items():
            (top, n), *rest = c.most_common()
            if not rest or rest[0][1] < n:
                out[i] = top
        return out

    def export(self, folder: str | Path, policy: str = "majority", annotator: str | None = None,
               images: bool = True, actor: Actor | None = None) -> Path:
        """Write <folder>/<name>-fer2024.csv (+ .meta.json sidecar) and, optionally, <split>/<class>/<id>.png.
        Under policy 'resolved' the sidecar records, per image, which source its label came from."""
        require(actor, "export")
        sources = reviewers = None
        if policy == "resolved":
            table = self.team.resolved()
            labels, sources, reviewers = table["label"].to_dict(), table["source"].to_dict(), table["reviewer"].to_dict()
        else:
            labels = self.consensus(policy, annotator)
        if not labels:
            raise DataError("nothing to export: no labels yet (or no majority under this policy)")
        folder = Path(folder)
        rows = sorted((self.row_of[i], lab) for i, lab in labels.items() if i in self.row_of)
        csv_path = folder / f"{self.name}-{self.target.name}.csv"
        try:
            self._write_export(csv_path, rows, policy, annotator, sources, reviewers, images)
        except OSError as exc:
            raise StoreError(f"the export could not be written ({exc.strerror or type(exc).__name__})",
                             path=str(folder),
                             fix="choose a folder this server may write to, on a disk with room") from None
        return csv_path

    def _write_export(self, csv_path: Path, rows: list, policy: str, annotator: str | None, sources: dict | None,
                      reviewers: dict | None, images: bool) -> None:
        folder = csv_path.parent
        write_fer_csv(csv_path, self.ds.images[[r for r, _ in rows]], [lab for _, lab in rows],
                      self.ds.splits[[r for r, _ in rows]])
        meta = {"scheme": self.target.name, "classes": list(self.target.classes),
                "ids": [str(self.ds.ids[r]) for r, _ in rows], "source": self.ds.source,
                "source_version": self.ds.version, "policy": policy, "annotator": annotator, "project": self.name,
                "exported": time.strftime("%Y-%m-%dT%H:%M:%S")}
        if sources is not None:
            meta["label_sources"] = [sources[str(self.ds.ids[r])] for r, _ in rows]
            meta["reviewers"] = [reviewers[str(self.ds.ids[r])] or "" for r, _ in rows]
            meta["source_counts"] = dict(Counter(meta["label_sources"]))
        write_text(sidecar_path(csv_path), json.dumps(meta, indent=2))
        if images:
            for r, lab in rows:
                target = folder / self.ds.splits[r] / self.target.classes[lab] / f"{self.ds.ids[r]}.png"
                target.parent.mkdir(parents=True, exist_ok=True)
                if not cv2.imwrite(str(target), self.ds.images[r]):
                    raise OSError(0, "OpenCV could not write the image", str(target))

    def import_export(self, csv_path: str | Path, actor: Actor | None = None) -> int:
        """Load a previous export back as labels of annotator 'import:<file>'."""
        require(actor, "import")
        from fer_core.data.csv_format import load_fer_csv
        csv_path = Path(csv_path)
        meta = read_sidecar(csv_path)
        if meta is None:
            raise DataError("no sidecar file next to the CSV", path=str(csv_path),
                            fix=f"an export comes with {csv_path.name}{SIDECAR_SUFFIX}")
        if meta.get("scheme") != self.target.name:
            raise DataError(f"export is in scheme '{meta.get('scheme')}', the project uses '{self.target.name}'",
                            path=str(csv_path))
        parsed = load_fer_csv(csv_path, n_classes=len(meta["classes"]), use_cache=False)
        if len(parsed.labels) != len(meta["ids"]):
            raise DataError("the sidecar's ids do not match the CSV rows", path=str(csv_path))
        return self.store.import_labels(dict(zip(meta["ids"], parsed.labels.tolist())), f"import:{csv_path.name}")


def delete_project(name: str, actor: Actor | None = None) -> None:
    """Delete a project's labels for good (its SQLite file, or its schema on the server)."""
    require(actor, "delete")
    database_for(safe_name(name), projects_dir()).drop()


MIN_RATE_LABELS, MIN_RATE_SECONDS = 20, 120  # below either, a rate is noise ("1688 per hour" after 9 labels)


def labels_per_hour(times: list[float], idle_gap_s: float = 300) -> float | None:
    """Labels per hour of active time (gaps longer than idle_gap_s are breaks, not work); None until there
    are at least MIN_RATE_LABELS labels over MIN_RATE_SECONDS of active time."""
    if len(times) < MIN_RATE_LABELS:
        return None
    active = float(np.clip(np.diff(np.asarray(times)), 0, idle_gap_s).sum())
    if active < MIN_RATE_SECONDS:
        return None
    return 3600.0 * (len(times) - 1) / active


def fleiss_kappa(ratings: list[list[int]], n_classes: int) -> float:
    """Fleiss' kappa for items rated by a varying number (>= 2) of raters (Fleiss 1971, unequal-n form)."""
    counts = np.zeros((len(ratings), n_classes))
    for i, r in enumerate(ratings):
        for lab in r:
            counts[i, lab] += 1
    n = counts.sum(axis=1)
    p_i = ((counts * (counts - 1)).sum(axis=1)) / (n * (n - 1))
    p_bar = p_i.mean()
    p_j = counts.sum(axis=0) / n.sum()
    p_e = (p_j ** 2).sum()
    return float((p_bar - p_e) / (1 - p_e)) if p_e < 1 else 1.0
