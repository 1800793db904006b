"""A run cut off mid-way (a 10-minute command limit, a crash) continues from its checkpoint to the full run."""
import csv
import json

import pytest

from fer_core.cli import main
from fer_core.training.config import TrainConfig
from fer_core.training.lifecycle import train
from fer_core.training.progress import Progress

pytestmark = pytest.mark.training  # layer (the folder says the subject)


class PowerCut(Progress):
    def epoch(self, epoch, logs):
        if epoch == 2:  # after two checkpointed epochs
            raise RuntimeError("power cut")


def test_cut_off_run_resumes_from_its_checkpoint_to_the_full_history(tmp_path, capsys, monkeypatch):
    aug = {"hflip": True, "shift": 0.1, "erasing": 0.3, "cutmix": 1.0, "mix_prob": 0.5}
    cfg = TrainConfig(architecture="cnn004", data="demo", epochs=4, batch_size=16, max_steps_per_epoch=4,
                      lr_schedule="cosine", optimizer="sgd", learning_rate=0.01, early_stopping_patience=None,
                      augment=aug, run_name="cut")
    with pytest.raises(RuntimeError, match="power cut"):
        train(cfg, progress=PowerCut(), out_root=tmp_path)
    (partial,) = tmp_path.glob("*.partial")
    state = json.loads((partial / "checkpoints" / "state.json").read_text())
    assert state["epochs_done"] == 2 and len(state["history"]) == 2
    (partial / "owner.pid").unlink()  # as if the process had died
    monkeypatch.setenv("FER_MODELS_DIR", str(tmp_path))
    assert main(["runs", "cut-off", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["cut_off_runs"]
    assert listed == [{"path": str(partial), "architecture": "cnn004", "epochs_done": 2, "epochs": 4}]

    assert main(["train", "--resume", str(partial), "--json"]) == 0
    capsys.readouterr()
    run = tmp_path / partial.name.removesuffix(".partial")
    assert run.is_dir() and not partial.exists() and not (run / "checkpoints").exists()
    record = json.loads((run / "run.json").read_text())
    assert record["status"] == "completed" and record["epochs_run"] == 4
    assert any("Resumed from the checkpoint after epoch 2" in n for n in record["notes"])
    with open(run / "history.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3, 4]
    assert float(rows[0]["loss"]) == pytest.approx(state["history"][0]["loss"])
    # the cosine schedule carried on from the restored optimizer instead of restarting
    lrs = [float(r["learning_rate"]) for r in rows]
    assert lrs[0] > lrs[1] > lrs[2] > lrs[3]


def test_resume_refuses_a_folder_without_checkpoint(tmp_path, capsys):
    assert main(["train", "--resume", str(tmp_path)]) == 2
    assert "not a cut-off run" in capsys.readouterr().err


def test_set_overrides_fields_and_augment_keys(tmp_path, capsys):
    from fer_core.cli import _parse_settings, build_parser
    assert _parse_settings(["epochs=3", "optimizer=sgd", "augment.mixup=0.2", "weights_path=null"]) == {
        "epochs": 3, "optimizer": "sgd", "augment.mixup": 0.2, "weights_path": None}
    assert main(["train", "--set", "epochs", "--json"]) == 2
    assert "key=value" in capsys.readouterr().err
    assert main(["train", "--set", "epochs.x=1"]) == 2
    assert build_parser().parse_args(["train", "--set", "a=1", "--set", "b=2"]).set == ["a=1", "b=2"]
