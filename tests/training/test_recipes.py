"""Named recipes: every file validates against TrainConfig, fits what it says, ranks by a measured validation
accuracy, and estimates its time here from a run on this machine."""
import json
import shutil

import pytest

from conftest import REPO
from fer_core.errors import ConfigError
from fer_core.training.recipes import (
    DataFacts,
    Recipe,
    all_recipes,
    best_recipe,
    estimate_seconds,
    get_recipe,
    missing_teachers,
    ranked,
)

pytestmark = pytest.mark.unit  # layer (the folder says the subject)

FER2013 = DataFacts("/data/fer2013.csv.gz", "fer2013", 28709)
DEMO = DataFacts("demo", "fer2013", 280)
SEEDS = {"seed000-cbam5cnn": "cbam5cnn", "seed000-efficientnetb3": "efficientnetb3", "seed001-vgg16": "vgg16",
         "seed002-cnn": "cnn002", "seed004-cnn": "cnn004"}


def test_every_recipe_validates_and_the_seeds_the_default_and_the_demo_are_there():
    recipes = all_recipes()
    assert {"default", "demo", *SEEDS} <= set(recipes)
    for name, arch in SEEDS.items():
        assert recipes[name].train_config("x.csv").architecture == arch
    assert recipes["seed001-vgg16"].train_config("x.csv").class_weights is True
    default = recipes["default"].train_config("fer2013.csv")
    assert (default.architecture, default.optimizer, default.lr_schedule, default.epochs) == ("fernet", "sgd", "cosine", 72)
    assert len(default.teacher_runs) == 4 and default.distill_weight > 0 and recipes["default"].adjust
    assert recipes["demo"].train_config("demo").epochs == 12  # the demo's own defaults (DEMO_DEFAULTS)


def test_what_fits_the_demo_and_fer2013(monkeypatch, tmp_path):
    assert best_recipe(DEMO).name == "demo"
    assert get_recipe("demo").why_not(FER2013) == "made for the demo dataset"
    assert "made for real datasets" in get_recipe("default").why_not(DEMO)
    assert "ckplus" in get_recipe("seed000-cbam5cnn").why_not(DataFacts("ck.csv", "ckplus", 5000))
    monkeypatch.setenv("FER_MODELS_DIR", str(tmp_path))  # no earlier runs: the default recipe's teachers are missing
    assert "4 of them missing" in get_recipe("default").why_not(FER2013)
    assert len(missing_teachers(get_recipe("default").teachers)) == 4
    fitting = [r.name for r, reason in ranked(FER2013) if reason is None]
    assert "default" not in fitting and set(SEEDS) <= set(fitting)


def test_the_best_measured_validation_accuracy_leads(monkeypatch, tmp_path):
    """Ranking reads the measuring run's validation split (never its test split) from the run folder."""
    monkeypatch.setenv("FER_MODELS_DIR", str(tmp_path))
    shipped = REPO / "models"
    for name in ("default", "fernet-cosine"):
        run = get_recipe(name).measured_run
        shutil.copytree(shipped / run, tmp_path / run, ignore=shutil.ignore_patterns("model.keras"))
        (tmp_path / run / "model.keras").write_bytes((shipped / run / "model.keras").read_bytes())
    for teacher in get_recipe("default").teachers:  # training resolves teachers by their model file
        (tmp_path / teacher).mkdir(exist_ok=True)
        (tmp_path / teacher / "model.keras").touch()
    from fer_core.runs.store import resolve_runs
    teachers = get_recipe("default").train_config("x.csv").teacher_runs  # run ids, as training receives them
    assert resolve_runs(teachers) == [str(tmp_path / t) for t in teachers]
    order = [r.name for r, reason in ranked(FER2013) if reason is None]
    assert order[:2] == ["default", "fernet-cosine"]
    val = json.loads((tmp_path / get_recipe("default").measured_run / "metrics.json").read_text())["val"]["accuracy"]
    assert get_recipe("default").measured()["val_accuracy"] == val
    seconds, source = estimate_seconds(get_recipe("default"), FER2013)
    record = json.loads((tmp_path / get_recipe("default").measured_run / "run.json").read_text())
    assert seconds == pytest.approx(72 * record["timings_s"]["per_epoch"] * 28709 / record["train_images"])
    half, _ = estimate_seconds(get_recipe("default"), DataFacts("/d.csv", "fer2013", record["train_images"] // 2))
    assert half == pytest.approx(seconds / 2, rel=1e-3) and source.startswith("run ")


def test_a_broken_recipe_is_refused_with_its_file(tmp_path):
    good = json.loads((REPO / "fer_core" / "recipes" / "seed004-cnn.json").read_text())
    for change, message in (({"colour": 1}, "unknown recipe key"), ({"config": {"epochs": 0}}, "epochs = 0"),
                            ({"config": {"architecture": "resnet99"}}, "unknown architecture"),
                            ({"fits": {"size": 48}}, "unknown fits key")):
        path = tmp_path / "seed004-cnn.json"
        path.write_text(json.dumps({**good, **change}))
        with pytest.raises(ConfigError, match=message) as info:
            Recipe.load(path)
        assert str(path) in str(info.value)
    with pytest.raises(ConfigError, match="did you mean 'seed004-cnn'"):
        get_recipe("seed004-cn")


def test_a_cancelled_run_is_not_adjusted(tmp_path, monkeypatch):
    """A recipe's adjustment follows a completed run only (CLI and job alike): a stopped run stays as it stopped."""
    from fer_core.training import adjust
    from fer_core.training.recipes import then_adjust
    monkeypatch.setattr(adjust, "adjust_run", lambda run_dir, **kw: tmp_path / "adjusted")
    for status, expected in (("cancelled", tmp_path / "run"), ("completed", tmp_path / "adjusted")):
        (tmp_path / "run").mkdir(exist_ok=True)
        (tmp_path / "run" / "run.json").write_text(json.dumps({"run_id": "run", "status": status}))
        assert then_adjust(tmp_path / "run", {"criterion": "macro_f1"}) == expected
    assert then_adjust(tmp_path / "run", None) == tmp_path / "run"
