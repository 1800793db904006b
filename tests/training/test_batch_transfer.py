"""Time-boxed recipe batches (GPU hosts' 10-minute commands) and moving runs through size-limited channels."""
import json

import pytest

from conftest import REPO
from fer_core.cli import main
from fer_core.errors import ConfigError, StoreError
from fer_core.runs.layout import run_name_of
from fer_core.runs.store import find_runs
from fer_core.runs.transfer import bundle_runs, unbundle_runs
from fer_core.training.config import TrainConfig
from fer_core.training.time_boxed import run_batch

pytestmark = pytest.mark.training  # layer (the folder says the subject)


def _recipe(path, name, epochs):
    cfg = TrainConfig(architecture="cnn004", data="demo", epochs=epochs, batch_size=16, max_steps_per_epoch=2,
                      early_stopping_patience=None, lr_schedule="cosine", run_name=name)
    path.write_text(cfg.to_json())
    return str(path)


def test_run_names_are_read_back_exactly():
    assert run_name_of("20261123-004500-gpu-cnn002-ab12") == "gpu-cnn002"
    assert run_name_of("20261123-004500-cnn002-ab12.partial") == "cnn002"


def test_batch_cuts_off_at_the_deadline_resumes_next_call_and_skips_finished(tmp_path):
    long = _recipe(tmp_path / "long.json", "long", 5000)
    short = _recipe(tmp_path / "short.json", "short", 1)
    out = tmp_path / "runs"
    # the short recipe first on its own: on a slow machine its process start would eat the long one's budget
    assert run_batch([short], budget_s=300, out_root=out)[0]["status"] == "finished"
    first = run_batch([short, long], budget_s=45, out_root=out)
    assert first[0]["status"] == "finished" and "seconds" not in first[0]  # skipped, not retrained
    assert first[1]["status"].startswith("cut off") and first[1]["epochs_done"] > 0, first
    second = run_batch([short, long], budget_s=35, out_root=out)
    assert second[0]["status"] == "finished" and "seconds" not in second[0]  # skipped, not retrained
    assert second[1]["epochs_done"] > first[1]["epochs_done"]  # continued from the checkpoint
    assert len(list(out.glob("*-long-????.partial"))) == 1
    with pytest.raises(ConfigError, match="run_name"):
        run_batch([_recipe(tmp_path / "anon.json", None, 1)], budget_s=10, out_root=out)


def test_bundle_in_small_parts_and_unbundle_verifies_everything(two_runs, tmp_path, capsys):
    manifest = bundle_runs(two_runs, tmp_path / "b", part_mb=1.0)
    assert len(manifest["parts"]) > 2 and manifest["runs"] == [r.name for r in two_runs]
    # parts may come back through different folders (one device command each)
    other = tmp_path / "b2"
    other.mkdir()
    (tmp_path / "b" / "runs.tar.part001").rename(other / "runs.tar.part001")
    assert main(["runs", "unbundle", str(tmp_path / "b"), str(other), "--into", str(tmp_path / "m"), "--json"]) == 0
    restored = json.loads(capsys.readouterr().out)["runs"]
    for run, back in zip(two_runs, restored):
        assert (run / "model.keras").read_bytes() == (tmp_path / "m" / run.name / "model.keras").read_bytes()
        assert back.endswith(run.name)
    with pytest.raises(StoreError, match="already present"):
        unbundle_runs([tmp_path / "b", other], tmp_path / "m")
    part = other / "runs.tar.part001"
    part.write_bytes(part.read_bytes()[:-1] + b"x")
    with pytest.raises(StoreError, match="damaged"):
        unbundle_runs([tmp_path / "b", other], tmp_path / "m2")
    part.unlink()
    with pytest.raises(StoreError, match="missing"):
        unbundle_runs([tmp_path / "b", other], tmp_path / "m2")
    partial = tmp_path / "x.partial"
    partial.mkdir()
    with pytest.raises(StoreError, match="only finished runs"):
        bundle_runs([partial], tmp_path / "b3")
    assert find_runs(tmp_path / "m", "tiny-a")[0].name == two_runs[0].name


def test_a_batch_takes_recipe_files_like_the_gpu_recipes(tmp_path):
    """gpu/recipes/*.json are recipes (description + config); a batch trains one by its run_name and data."""
    from fer_core.training.recipes import get_recipe
    for path in sorted((REPO / "gpu" / "recipes").glob("*.json")):
        cfg = get_recipe(str(path)).train_config()
        assert cfg.run_name and cfg.data == ".carry/fer2013.ferpack.npz"
    recipe = tmp_path / "tiny.json"
    config = json.loads(_recipe(tmp_path / "cfg.json", "tiny", 1) and (tmp_path / "cfg.json").read_text())
    recipe.write_text(json.dumps({"name": "tiny", "title": "tiny", "about": "a test", "config": config}))
    report = run_batch([str(recipe)], budget_s=120, out_root=tmp_path / "runs")
    assert report[0]["status"] == "finished", report
    assert json.loads((find_runs(tmp_path / "runs", "tiny")[0] / "config.json").read_text())["train_config"]["epochs"] == 1
