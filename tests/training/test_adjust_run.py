"""`runs adjust` turns a finished run into a logit-adjusted run that loads and scores like any other."""
import json

import numpy as np
import pytest

from fer_core.runs.loader import load_model
from fer_core.runs.run import Run
from fer_core.training.adjust import adjust_run
from fer_core.training.config import TrainConfig
from fer_core.training.lifecycle import train

pytestmark = pytest.mark.training  # layer (the folder says the subject)


def test_adjusted_run_is_a_complete_run_with_the_shift_in_its_bias(tmp_path):
    run = train(TrainConfig(architecture="cnn004", data="demo", epochs=1, batch_size=16, max_train_images=64,
                            max_steps_per_epoch=2), out_root=tmp_path)
    out = adjust_run(run, taus=(0.0, 0.5, 1.0))
    adjusted = Run.load(out).require_usable()
    record = json.loads((out / "run.json").read_text())
    la = record["logit_adjustment"]
    assert la["selected_on"] == "PublicTest" and la["tau"] in (0.0, 0.5, 1.0) and len(la["candidates"]) == 3
    assert "runs adjust" in record["command"] and adjusted.metrics["test"]["n"] > 0
    before, after = (load_model(Run.load(p)).layers[-1].get_weights()[1] for p in (run, out))
    assert np.allclose(after, before - la["tau"] * np.asarray(la["log_prior"]), atol=1e-4)
