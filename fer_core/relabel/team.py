"""Team curation on a Relabel project: k labels per image handed out by claims, blind labelling, consensus
(Dawid–Skene or majority, optionally with FERPlus' crowd), annotator quality, a review queue for
disagreements and low confidence, reviewers' decisions, and the resolved label of every image with its source.

Settings live in the project's database (meta 'team'), so every app server sharing it sees one project. Every
guarded call takes the acting user and checks their role (`relabel.roles`).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields

import numpy as np
import pandas as pd

from fer_core.data import consensus as cons
from fer_core.data.ferplus import votes_in_scheme
from fer_core.errors import ConfigError
from fer_core.relabel.roles import Actor, require

SOURCES = ("reviewer", "consensus", "single", "import")  # where an exported label came from, by precedence


@dataclass(frozen=True)
class TeamSettings:
    k: int = 1  # labels wanted per image (1: one annotator is enough, no overlap)
    blind: bool = False  # annotators do not see others' labels or the suggestions while labelling
    review_threshold: float = 0.7  # consensus confidence below this sends an image to review
    method: str = "dawid-skene"
    include_ferplus: bool = False  # FERPlus' ten votes join the consensus as one more (crowd) annotator

    def __post_init__(self):
        if not isinstance(self.k, int) or not 1 <= self.k <= 10:
            raise ConfigError(f"labels per image must be 1 to 10 (got {self.k!r})")
        if not 0.0 <= float(self.review_threshold) <= 1.0:
            raise ConfigError(f"the review threshold is a confidence from 0 to 1 (got {self.review_threshold!r})")
        if self.method not in cons.METHODS:
            raise ConfigError(f"unknown consensus method '{self.method}'", fix=f"use one of {', '.join(cons.METHODS)}")

    @classmethod
    def from_json(cls, text: str | None) -> TeamSettings:
        if not text:
            return cls()
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in json.loads(text).items() if k in known})


class Team:
    """The team side of one RelabelProject."""

    def __init__(self, project):
        self.project = project
        self.store = project.store
        self.classes = project.target.classes

    # ---- settings ----
    @property
    def settings(self) -> TeamSettings:
        return TeamSettings.from_json(self.store.meta("team"))  # read each time: another server may change it

    def configure(self, actor: Actor | None, **changes) -> TeamSettings:
        require(actor, "settings")
        settings = TeamSettings(**{**asdict(self.settings), **changes})
        self.store.set_meta("team", json.dumps(asdict(settings)))
        return settings

    # ---- labelling ----
    def next_rows(self, actor: Actor | None, n: int = 20) -> np.ndarray:
        """Rows for this annotator to label next: their claimed images that need more labels (see
        LabelStore.assign). With k = 1 this is every image nobody has labelled, in dataset order."""
        actor = require(actor, "label")
        ids = self.store.assign(actor.name, [str(i) for i in self.project.ds.ids], self.settings.k, n)
        return np.asarray([self.project.row_of[i] for i in ids if i in self.project.row_of], dtype=int)

    def shows_others(self, actor: Actor | None, settings: TeamSettings | None = None) -> bool:
        """Whether this user may see other annotators' labels and the suggestions while labelling."""
        return not (settings or self.settings).blind

    def labels_of_image(self, image_id: str, actor: Actor | None) -> list[dict]:
        """Every standing team label of an image with who gave it and when; in blind mode an annotator sees
        only their own (reviewers and admins see all)."""
        actor = require(actor, "label")
        mine_only = self.settings.blind and not actor.can("review")
        out = []
        for event in self.store.history(str(image_id)):
            out = [e for e in out if e["annotator"] != event["annotator"]]
            if event["label"] is not None and not event["annotator"].startswith("import:"):
                out.append({"annotator": event["annotator"], "label": self.classes[event["label"]],
                            "index": event["label"], "created": event["created"], "source": event["source"]})
        return [e for e in out if e["annotator"] == actor.name] if mine_only else out

    # ---- consensus ----
    def labels_table(self, include_ferplus: bool | None = None) -> pd.DataFrame:
        """One row per standing team label (task, worker, label), plus FERPlus' crowd when asked."""
        return self._with_crowd(_team_table(self.store.current()), include_ferplus)

    def _with_crowd(self, table: pd.DataFrame, include_ferplus: bool | None = None) -> pd.DataFrame:
        include = self.settings.include_ferplus if include_ferplus is None else include_ferplus
        ds = self.project.ds
        if not include or ds.votes is None:
            return table
        votes = votes_in_scheme(ds.votes, self.project.target.name, "counts")
        return pd.concat([table, cons.ferplus_crowd(votes, ds.ids)], ignore_index=True)

    def consensus(self, method: str | None = None, current: dict | None = None) -> pd.DataFrame:
        """Consensus of every image with at least one team label (FERPlus' crowd, when included, informs it but
        adds no image of its own). `n_labels`, `unanimous` and `single_label` describe the team's labels only."""
        team = _team_table(self.store.current() if current is None else current)
        table = cons.estimate(self._with_crowd(team), len(self.classes), method or self.settings.method)
        stats = team.groupby("task")["label"].agg(n_labels="size", distinct="nunique", first="first")
        table = table[table.index.isin(stats.index)].copy()
        table["n_labels"] = stats["n_labels"].reindex(table.index).astype(int)
        table["unanimous"] = stats["distinct"].reindex(table.index) == 1
        table["single_label"] = stats["first"].reindex(table.index).astype(int)
        return table

    def quality(self, actor: Actor | None = None, method: str | None = None) -> dict:
        """Each annotator against the consensus; in blind mode only reviewers and admins may see it."""
        self._require_sight(actor)
        current = self.store.current()  # one read: the table and its consensus describe the same labels
        return cons.annotator_quality(self._with_crowd(_team_table(current)), self.consensus(method, current),
                                      len(self.classes))

    def _require_sight(self, actor: Actor | None) -> None:
        if self.settings.blind:
            require(actor, "review")

    # ---- adjudication ----
    def review_queue(self, actor: Actor | None) -> pd.DataFrame:
        """Images whose team labels disagree, or whose consensus confidence is below the project's threshold
        (with two or more team labels, or one when FERPlus' crowd joins the consensus), and no reviewer decision
        yet; least confident first."""
        require(actor, "review")
        table = self.consensus()
        settings = self.settings
        enough = table["n_labels"] >= (1 if settings.include_ferplus else 2)
        doubtful = (~table["unanimous"] & (table["n_labels"] >= 2)) | (table["confidence"] < settings.review_threshold)
        due = table[enough & doubtful]
        due = due[~due.index.isin(set(self.store.decisions()))]
        return due.sort_values(["confidence", "n_labels"], ascending=[True, False])

    def decide(self, image_id: str, label: int | None, actor: Actor | None, note: str | None = None) -> None:
        actor = require(actor, "review")
        if label is not None and not 0 <= int(label) < len(self.classes):
            raise ConfigError(f"label {label} is not a class of {self.project.target.name}")
        self.store.decide(str(image_id), actor.name, label, note)

    # ---- the labels an export takes ----
    def resolved(self) -> pd.DataFrame:
        """Per image: `label`, `source` (reviewer > consensus > single > import), `confidence` (consensus),
        `n_labels` (team labels) and `reviewer`. One read of the labels: what is shown is what is exported."""
        current = self.store.current()
        decisions = self.store.decisions()
        table = self.consensus(current=current)
        by_consensus = (table["n_labels"] >= 2) | self.settings.include_ferplus  # the crowd makes a lone label a consensus
        out = pd.DataFrame({"label": np.where(by_consensus, table["label"], table["single_label"]),
                            "confidence": np.where(by_consensus, table["confidence"], np.nan),
                            "n_labels": table["n_labels"], "source": np.where(by_consensus, "consensus", "single"),
                            "reviewer": None}, index=table.index)
        for image_id, d in decisions.items():
            out.loc[image_id, ["label", "source", "reviewer"]] = [d["label"], "reviewer", d["reviewer"]]
        imports = {i: lab for (i, a), lab in current.items() if a.startswith("import:")}
        extra = {i: lab for i, lab in imports.items() if i not in out.index}
        if extra:
            out = pd.concat([out, pd.DataFrame({"label": list(extra.values()), "source": "import", "n_labels": 0,
                                                "confidence": np.nan, "reviewer": None}, index=list(extra))])
        out["label"] = out["label"].astype(int)
        out["n_labels"] = out["n_labels"].fillna(0).astype(int)
        out.index.name = "image_id"
        return out

    def progress(self) -> dict:
        """How far the project is: images with k labels, waiting for review, decided."""
        settings = self.settings
        counts: dict[str, int] = {}
        for (i, a) in self.store.current():
            if not a.startswith("import:"):
                counts[i] = counts.get(i, 0) + 1
        n = np.fromiter(counts.values(), dtype=int, count=len(counts))
        return {"k": settings.k, "images": len(self.project.ds), "with_k_labels": int((n >= settings.k).sum()),
                "started": int(len(n)), "labels": int(n.sum()), "decided": len(self.store.decisions())}


def _team_table(current: dict) -> pd.DataFrame:
    """The team's standing labels as a long table (task, worker, label); imported exports are not a member's."""
    return pd.DataFrame([(i, a, lab) for (i, a), lab in current.items() if not a.startswith("import:")],
                        columns=["task", "worker", "label"]).astype({"task": str, "label": int})
