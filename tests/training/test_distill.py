"""Knowledge distillation: teachers' probabilities blended into a student's targets."""
import json

import numpy as np
import pytest

from fer_core.errors import DataError
from fer_core.training.config import TrainConfig
from fer_core.training.distill import blend_targets
from fer_core.training.lifecycle import train
from fer_core.training.progress import Progress

pytestmark = pytest.mark.training  # layer (the folder says the subject)


def test_blend_keeps_distributions_and_temperature_softens():
    labels = np.eye(3, dtype=np.float32)[[0, 1]]
    teacher = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], np.float32)
    out = blend_targets(labels, teacher, 0.5)
    assert np.allclose(out.sum(1), 1) and np.allclose(out[0], [0.85, 0.1, 0.05])
    soft = blend_targets(labels, teacher, 1.0, temperature=4.0)
    assert soft[0].max() < 0.7 and soft[0].argmax() == 0  # flatter, same ranking
    with pytest.raises(DataError):
        blend_targets(labels, teacher, 1.5)


def test_student_trains_on_a_teachers_soft_targets(two_runs, tmp_path):
    cfg = TrainConfig(architecture="cnn004", data="demo", epochs=1, batch_size=16, max_steps_per_epoch=2,
                      teacher_runs=[str(two_runs[0]), str(two_runs[1])], distill_weight=0.7, distill_temperature=2.0)
    run = train(cfg, progress=Progress(), out_root=tmp_path)
    record = json.loads((run / "run.json").read_text())
    note = next(n for n in record["notes"] if n.startswith("Targets = 0.30 x labels + 0.70 x teachers"))
    assert two_runs[0].name in note and "T=2.0" in note
    saved = json.loads((run / "config.json").read_text())["train_config"]
    assert saved["teacher_runs"] == cfg.teacher_runs  # the reproduce command distils from the same teachers


def test_teacher_with_other_classes_is_refused(two_runs, tmp_path):
    cfg = TrainConfig(architecture="cnn004", data="demo", scheme="fer2024", epochs=1, max_steps_per_epoch=1,
                      teacher_runs=[str(two_runs[0])], distill_weight=0.5)
    with pytest.raises(DataError, match="distil from runs trained on the same label scheme"):
        train(cfg, progress=Progress(), out_root=tmp_path)


def test_teachers_can_be_named_by_run_name(two_runs):
    from pathlib import Path

    from fer_core.runs.store import resolve_runs
    resolved = resolve_runs(["tiny-b", str(two_runs[0])])
    assert Path(resolved[0]).name == two_runs[1].name and resolved[1] == str(two_runs[0])
    from fer_core.errors import RunError
    with pytest.raises(RunError, match="no finished run named 'nobody'"):
        resolve_runs(["nobody"])
