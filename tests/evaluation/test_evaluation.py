"""Evaluation metrics checked against scikit-learn / SciPy on a fixed prediction set, plus the CLI."""
import json
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm

from conftest import REPO
from fer_core.evaluation.evaluate import evaluate
from fer_core.evaluation.metrics import expected_calibration_error, full_metrics
from fer_core.evaluation.stats import bootstrap_ci, cochran_q, friedman, mcnemar

pytestmark = pytest.mark.training  # layer (the folder says the subject)

CLASSES = ["a", "b", "c"]


@pytest.fixture
def fixed():
    rng = np.random.default_rng(42)
    y = rng.integers(0, 3, 300)
    logits = rng.normal(0, 1, (300, 3))
    logits[np.arange(300), y] += 1.2
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y, probs


def test_metrics_match_scikit_learn(fixed):
    y, probs = fixed
    pred = probs.argmax(1)
    m = full_metrics(y, probs, CLASSES)
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert m["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, pred))
    assert m["macro_f1"] == pytest.approx(skm.f1_score(y, pred, average="macro"))
    assert m["weighted_f1"] == pytest.approx(skm.f1_score(y, pred, average="weighted"))
    assert m["macro_precision"] == pytest.approx(skm.precision_score(y, pred, average="macro"))
    assert m["cohen_kappa"] == pytest.approx(skm.cohen_kappa_score(y, pred))
    assert m["log_loss"] == pytest.approx(skm.log_loss(y, probs), rel=1e-6)
    assert m["auc_ovr_macro"] == pytest.approx(skm.roc_auc_score(y, probs, multi_class="ovr"))
    assert m["per_class"]["b"]["recall"] == pytest.approx(skm.recall_score(y, pred, average=None)[1])
    assert np.array_equal(m["confusion_matrix"], skm.confusion_matrix(y, pred))
    assert np.allclose(np.array(m["confusion_matrix_normalised"]).sum(axis=1), 1, atol=1e-3)


def test_ece_by_hand():
    y = np.array([0, 0, 1, 1])
    probs = np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.3, 0.7]])
    # bins: conf .9 (2 imgs, both right: |1-.9|=.1), .6 (wrong: |0-.6|), .7 (right: |1-.7|)
    assert expected_calibration_error(y, probs, bins=10) == pytest.approx(0.5 * 0.1 + 0.25 * 0.6 + 0.25 * 0.3)


def test_bootstrap_ci_brackets_the_estimate(fixed):
    y, probs = fixed
    ci = bootstrap_ci(y, probs.argmax(1), 3, n_boot=300)
    acc = (probs.argmax(1) == y).mean()
    assert ci["accuracy_ci"][0] < acc < ci["accuracy_ci"][1]
    assert ci["accuracy_ci"][1] - ci["accuracy_ci"][0] < 0.15


def test_mcnemar_exact_and_chi2():
    a = np.array([True] * 10 + [False] * 3 + [True] * 50)
    b = np.array([False] * 10 + [True] * 3 + [True] * 50)
    r = mcnemar(a, b)
    assert (r["b"], r["c"]) == (10, 3)
    assert r["p_value"] == pytest.approx(stats.binomtest(10, 13, 0.5).pvalue)
    a = np.array([True] * 40 + [False] * 20)
    b = np.array([False] * 40 + [True] * 20)
    r = mcnemar(a, b)
    assert r["p_value"] == pytest.approx(stats.chi2.sf((abs(40 - 20) - 1) ** 2 / 60, 1))


def test_cochran_q_and_friedman():
    correct = np.array([[1, 1, 0], [1, 0, 0], [1, 1, 1], [0, 0, 0], [1, 0, 0], [1, 1, 0]], bool)
    q = cochran_q(correct)
    # by hand: k=3, column sums (5,3,1), row sums (2,1,3,0,1,2): Q = 2*(3*35-81)/(3*9-19) = 6
    assert q["statistic"] == pytest.approx(6.0)
    scores = np.random.default_rng(0).normal(size=(20, 3))
    assert friedman(scores)["p_value"] == pytest.approx(stats.friedmanchisquare(*scores.T).pvalue)


def test_run_evaluation_ensemble_and_cli_agree(two_runs):
    single = evaluate(two_runs[0], split="PrivateTest", latency=False)
    assert single.metrics["n"] == 56 and single.data_version
    ens = evaluate(two_runs, split="PrivateTest", latency=False)
    assert ens.name.startswith("ensemble(") and len(ens.members) == 2
    p0 = evaluate(two_runs[0], split="PrivateTest", latency=False).probs
    p1 = evaluate(two_runs[1], split="PrivateTest", latency=False).probs
    assert np.allclose(ens.probs, (p0 + p1) / 2, atol=1e-6)
    leaks = evaluate(two_runs[0], split="PublicTest", exclude_leaks=True, latency=False)
    assert leaks.excluded_leaks == 2 and leaks.metrics["n"] == 54  # the demo plants two leaked test images
    out = subprocess.run([sys.executable, "-m", "fer_core", "evaluate", str(two_runs[0]), "--json", "--no-latency"],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    cli = json.loads(out.stdout)
    assert cli["metrics"]["accuracy"] == pytest.approx(single.metrics["accuracy"])
    assert cli["metrics"]["macro_f1"] == pytest.approx(single.metrics["macro_f1"])


def test_a_cached_evaluation_without_timing_gets_latency_when_asked(two_runs):
    first = evaluate(two_runs, split="PublicTest", latency=False)
    assert first.latency_ms == {}
    timed = evaluate(two_runs, split="PublicTest")  # from the cache, but timed now (an ensemble: both members)
    assert timed.latency_ms["batch1"] > 0 and timed.latency_ms["batch64_per_image"] > 0
    assert np.array_equal(timed.probs, first.probs)
    assert evaluate(two_runs, split="PublicTest", latency=False).latency_ms == timed.latency_ms  # kept in the cache


def test_cross_dataset_reports_unmapped_classes(two_runs, shared_data):
    ev = evaluate(two_runs[0], data=str(shared_data / "ckplus" / "ckplus.csv.gz"), split="all", latency=False)
    assert ev.unmapped == {"contempt": 54}
    assert ev.metrics["n"] == 981 - 54


def test_tta_views_are_the_image_its_mirror_and_edge_padded_shifts():
    import numpy as np

    from fer_core.models.predict import tta_mode, tta_views
    x = np.arange(2 * 48 * 48, dtype=np.float32).reshape(2, 48, 48, 1)
    assert tta_mode(True) == "flip" and tta_mode(False) == "none"
    assert len(list(tta_views(x, "none"))) == 1
    flip = list(tta_views(x, "flip"))
    assert len(flip) == 2 and np.array_equal(flip[1], x[:, :, ::-1])
    views = list(tta_views(x, "shift10"))
    assert len(views) == 10 and all(v.shape == x.shape for v in views)
    assert np.array_equal(views[0], x) and np.array_equal(views[1], x[:, :, ::-1])
    up = views[2]  # content moved down by 2 px: row 2 of the view is row 0 of the image, the top repeats row 0
    assert np.array_equal(up[:, 2:], x[:, :-2]) and np.array_equal(up[:, 0], x[:, 0])
    import pytest

    from fer_core.errors import DataError
    with pytest.raises(DataError):
        tta_mode("tencrop")


def test_markdown_results_row_carries_number_ci_and_both_commands(two_runs, capsys):
    from fer_core.cli import main
    from fer_core.evaluation.evaluate import evaluate as ev_fn
    assert main(["evaluate", str(two_runs[0]), "--no-latency", "--tta", "shift10", "--markdown"]) == 0
    header, _, row = capsys.readouterr().out.strip().splitlines()
    assert header.startswith("| model | scored on |") and row.count("|") == header.count("|")
    ev = ev_fn(two_runs[0], tta="shift10", latency=False)
    assert f"{ev.metrics['accuracy']:.2%} ({ev.ci['accuracy_ci'][0]:.2%}" in row
    assert "TTA shift10" in row and "python -m fer_core train --config" in row and "--tta shift10" in row


def test_evaluate_cli_scores_a_run_on_rafdb_as_distributed(two_runs, shared_data, tmp_path, capsys):
    """`evaluate --data` on RAF-DB's own layout: every RAF-DB class has a FER2013 counterpart, named in the output."""
    import json

    import layout_fixtures

    from fer_core.cli import main
    from fer_core.data.loading import load_dataset
    ck = load_dataset(shared_data / "ckplus" / "ckplus.csv.gz")
    root = layout_fixtures.rafdb(tmp_path / "raf", ck.images[::30][:28], ck.labels[::30][:28] % 7)
    assert main(["evaluate", str(two_runs[0]), "--data", str(root), "--split", "PrivateTest", "--no-latency",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["summary"]["dataset"].startswith("RAF-DB basic") and out["summary"]["n"] == 7
    assert out["unmapped_classes_left_out"] == {} and out["shared"]["happiness"] == "happy"
    assert "happiness → happy" in out["coverage"][0]
