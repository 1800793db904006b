"""The Run type: one run folder read once, with what is wrong with it when it cannot be used."""
from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from fer_core.errors import RunError
from fer_core.runs import layout
from fer_core.runs.record import RunRecord


def read_json(path: Path) -> dict:
    """The JSON object in `path`, or {} when missing or unreadable (callers report what they need)."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _problem(path: Path, config: dict) -> str | None:
    """Why the run cannot be loaded or scored, in words a user can act on; None when it looks usable."""
    model = path / layout.MODEL
    if not model.is_file():
        return f"{layout.MODEL} is missing"
    if model.stat().st_size == 0:
        return f"{layout.MODEL} is empty"
    if not zipfile.is_zipfile(model):
        return f"{layout.MODEL} is not a Keras file (corrupt or truncated)"
    config_file = path / layout.CONFIG
    if not config_file.is_file():
        return f"{layout.CONFIG} is missing"
    if not config:
        return f"{layout.CONFIG} is not valid JSON"
    if not isinstance(config.get("class_names"), list) or not config["class_names"]:
        return f"{layout.CONFIG} has no class_names"
    return None


@dataclass
class Run:
    path: Path
    config: dict = field(default_factory=dict)  # config.json
    metrics: dict = field(default_factory=dict)  # metrics.json
    record: RunRecord = field(default_factory=lambda: RunRecord(run_id=""))  # run.json
    card: dict = field(default_factory=dict)  # card.json: measured figures for the model card (default model)
    problem: str | None = None  # why it is broken; None when usable

    @classmethod
    def load(cls, path: str | Path) -> "Run":
        """Read a run folder; never raises: a broken run comes back with `problem` set."""
        path = Path(path)
        config = read_json(path / layout.CONFIG)
        return cls(path=path, config=config, metrics=read_json(path / layout.METRICS),
                   record=RunRecord.from_dict(read_json(path / layout.RECORD)), card=read_json(path / layout.CARD),
                   problem=_problem(path, config))

    def require_usable(self) -> "Run":
        if self.problem:
            raise RunError(f"broken run: {self.problem}", path=str(self.path),
                           fix="pick another run, or delete or re-train this one")
        return self

    @property
    def id(self) -> str:
        return self.path.name

    @property
    def broken(self) -> bool:
        return self.problem is not None

    @property
    def model_path(self) -> Path:
        return self.path / layout.MODEL

    @property
    def train_config(self) -> dict:
        tc = self.config.get("train_config")
        return tc if isinstance(tc, dict) else {}

    @property
    def class_names(self) -> list[str]:
        return list(self.config.get("class_names") or [])

    @property
    def architecture(self) -> str:
        return self.config.get("architecture") or self.train_config.get("architecture", "?")

    @property
    def data_version(self) -> str | None:
        return self.config.get("data_version")

    @property
    def scheme(self) -> str:
        return self.train_config.get("scheme", "fer2013")

    @property
    def data(self) -> str | None:
        return self.train_config.get("data")

    def data_path(self) -> str | None:
        """The training data; a relative path (as the shipped runs record it) is read from the repository root.
        Where the recorded file is not there, a file of the same name in the configured data (FER_DATA or
        FER_DATA_DIR) stands in: the user's own copy of FER2013 on another path."""
        data = self.data
        if not data or data == "demo":
            return data
        from fer_core.settings import REPO_ROOT, configured_data_path, data_dir
        path = Path(data) if Path(data).is_absolute() else (REPO_ROOT / data).resolve()
        if not path.exists():
            configured = configured_data_path()
            folder = data_dir()
            for candidate in (Path(configured) if configured else None, folder / path.name if folder else None):
                if candidate is not None and candidate.name == path.name and candidate.exists():
                    return str(candidate)
        return str(path)

    def data_available(self) -> bool:
        path = self.data_path()
        return path == "demo" or bool(path and Path(path).exists())

    @property
    def train_split(self) -> str:
        return self.train_config.get("train_split", "Training")

    @property
    def label_source(self) -> str:
        return self.train_config.get("label_source", "labels")

    @property
    def model_mtime(self) -> int:
        return self.model_path.stat().st_mtime_ns

    @property
    def file_size_mb(self) -> float:
        return self.model_path.stat().st_size / 2**20

    def label(self) -> str:
        """The run id, marked when broken ("<id> — broken: config.json is not valid JSON")."""
        return f"{self.id} — broken: {self.problem}" if self.problem else self.id
