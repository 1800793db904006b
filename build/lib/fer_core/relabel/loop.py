"""The active-learning loop: learn from a project's labels so far, then suggest for every image again.

A round fits a multinomial logistic regression (scikit-learn) on a run's penultimate features of the labelled images
(fer_core.relabel.embeddings): seconds on FER2013 once the features are on disk, so a round can follow every few
hundred labels. The labelled images get out-of-fold probabilities (5-fold), so a round never suggests back the label
it was taught; the rest get the fitted model's. Each round is a file in the out-of-fold format
(<projects>/<project>-loop/round-NNN.npz) that the Relabel page offers as a suggestion source.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from fer_core.atomic import atomic_path
from fer_core.errors import DataError
from fer_core.relabel.project import RelabelProject, projects_dir

MIN_LABELS = 20  # fewer teach nothing a model could not get from the base run


def loop_dir(project: RelabelProject) -> Path:
    return projects_dir() / f"{project.name}-loop"


def rounds(project: RelabelProject) -> list[dict]:
    """Every round of the project on its current dataset, oldest first: round, path, created, labels, annotator."""
    out = []
    folder = loop_dir(project)
    for path in sorted(folder.glob("round-*.npz")) if folder.is_dir() else []:
        with np.load(path, allow_pickle=False) as z:
            if str(z["data_version"]) != project.ds.version:
                continue
            cfg = json.loads(str(z["config"]))
        out.append({**cfg, "path": path})
    return out


def learn(project: RelabelProject, run, annotator: str | None = None, progress=None) -> Path:
    """One round: fit on `annotator`'s labels (everyone's majority when None) and write the round's file."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from fer_core.relabel.embeddings import features
    say = progress or (lambda text: None)
    labels = project.store.labels_of(annotator) if annotator else project.consensus("majority")
    rows = np.array([project.row_of[i] for i in labels if i in project.row_of], dtype=int)
    y = np.array([labels[str(project.ds.ids[r])] for r in rows], dtype=int)
    if len(rows) < MIN_LABELS or len(np.unique(y)) < 2:
        n_classes = len(np.unique(y))
        raise DataError(f"{len(rows)} labels in {n_classes} class{'es' if n_classes != 1 else ''} so far: a round "
                        f"needs at least "
                        f"{MIN_LABELS} labels in two or more classes", fix="label a few more images, then start a round")
    say(f"features of {len(project.ds):,} images from {run.id}")
    x = features(run, project.ds)
    say(f"fitting on {len(rows):,} labels")
    clf = LogisticRegression(max_iter=500, C=1.0, class_weight="balanced")
    k = project.target.n_classes
    probs = np.zeros((len(project.ds), k), np.float32)
    clf.fit(x[rows], y)
    probs[:, clf.classes_] = clf.predict_proba(x)
    folds = int(min(5, np.bincount(y).max()))
    smallest = np.bincount(y)[np.unique(y)].min()
    if smallest >= 2:  # out-of-fold for the labelled images (classes with fewer images than folds are merged in)
        cv = StratifiedKFold(n_splits=min(folds, smallest), shuffle=True, random_state=0)
        held = cross_val_predict(LogisticRegression(max_iter=500, C=1.0, class_weight="balanced"), x[rows], y, cv=cv,
                                 method="predict_proba")
        probs[rows] = 0
        probs[np.ix_(rows, np.unique(y))] = held
    number = len(rounds(project)) + 1
    config = {"scheme": project.target.name, "kind": "loop", "round": number, "project": project.name,
              "annotator": annotator, "labels": int(len(rows)), "features": run.id, "created": time.time()}
    all_labels = np.full(len(project.ds), -1, np.int64)
    all_labels[rows] = y
    path = loop_dir(project) / f"round-{number:03d}.npz"
    with atomic_path(path, suffix=".npz") as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, ids=project.ds.ids.astype(str), labels=all_labels, probs=probs,
                     classes=np.array(project.target.classes), data_version=np.str_(project.ds.version),
                     config=np.str_(json.dumps(config)), folds=folds)
    say(f"round {number} saved: {path}")
    return path


def overrules(project: RelabelProject, annotator: str, base: np.ndarray) -> list[dict]:
    """Per round, how often the annotator's one-by-one labels differed from the model suggestion in force: round 0
    is `base` (the run's own probabilities, N x K), round k the k-th loop file, from its creation to the next's."""
    from fer_core.relabel.suggest import oof_distribution
    sources = [{"round": 0, "created": 0.0, "label": base.argmax(axis=1)}]
    for r in rounds(project):
        sources.append({"round": r["round"], "created": r["created"],
                        "label": oof_distribution(r["path"], project.ds, project.target.name).argmax(axis=1)})
    events = [e for e in project.store.history() if e["annotator"] == annotator and e["action"] == "label"
              and e["source"] in (None, "single") and e["image_id"] in project.row_of]
    out = []
    for n, src in enumerate(sources):
        end = sources[n + 1]["created"] if n + 1 < len(sources) else float("inf")
        given = [(project.row_of[e["image_id"]], e["label"]) for e in events if src["created"] <= e["created"] < end]
        over = sum(int(src["label"][row] != lab) for row, lab in given)
        out.append({"round": src["round"], "labels": len(given), "overruled": over,
                    "rate": over / len(given) if given else None})
    return out
