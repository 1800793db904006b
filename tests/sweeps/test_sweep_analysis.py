"""Ablation sweeps: variants in the spec, and the paired tests across seeds that Compare and `sweep show` report."""
import json

import pytest
from scipy import stats

from fer_core.errors import ConfigError
from fer_core.sweeps.analysis import ablation_report, arm_of, paired_tests
from fer_core.sweeps.spec import SweepSpec, templates

pytestmark = pytest.mark.unit  # layer (the folder says the subject)

VARIANTS = {"full": {}, "no_dropout": {"model_options.dropout": 0.0}, "no_aug": {"augment_enabled": False}}


def ablation(**extra):
    return {"study": "abl", "sampler": "grid", "pruner": "none",
            "base": {"data": "demo", "architecture": "cbam5cnn", "model_options": {"width": 0.25}, "epochs": 2,
                     "augment_enabled": True},
            "variants": VARIANTS,
            "space": {"variant": {"categorical": list(VARIANTS)}, "seed": {"categorical": [0, 1]}}, **extra}


def test_each_variant_becomes_its_overrides_on_top_of_the_base():
    spec = SweepSpec.from_dict(ablation())
    full = spec.train_config({"variant": "full", "seed": 1})
    no_dropout = spec.train_config({"variant": "no_dropout", "seed": 1})
    assert full.model_options == {"width": 0.25} and full.seed == 1 and full.augment_enabled
    assert no_dropout.model_options == {"width": 0.25, "dropout": 0.0}
    assert not spec.train_config({"variant": "no_aug", "seed": 0}).augment_enabled


def test_bad_ablation_specs_fail_before_any_trial(tmp_path):
    with pytest.raises(ConfigError, match="not in variants"):
        SweepSpec.from_dict(ablation(space={"variant": {"categorical": ["full", "no_bn"]}}))
    with pytest.raises(ConfigError, match="needs a \"variants\" object"):
        SweepSpec.from_dict({**ablation(), "variants": {}})
    with pytest.raises(ConfigError, match="cbam5cnn has no model option .dropuot. \\(variant .no_dropout.\\)"):
        SweepSpec.from_dict(ablation(variants={**VARIANTS, "no_dropout": {"model_options.dropuot": 0.0}}))
    # a pretrained arm whose weights file is missing would compare scratch with scratch
    with pytest.raises(ConfigError, match="weights that are not here"):
        SweepSpec.from_dict(ablation(variants={**VARIANTS, "pretrained": {"weights_path": str(tmp_path / "no.h5")}}))


def test_the_ready_templates_load_and_the_seed003_ablation_covers_every_switch():
    ready = templates()
    assert list(ready)[0] == "demo"
    for path in ready.values():
        SweepSpec.load(path)
    spec = SweepSpec.load(ready["seed003_ablation"])
    assert set(spec.variants) == {"full", "no_augmentation", "no_dropout", "no_batchnorm", "no_attention"}
    assert spec.trials == len(spec.variants) * len(spec.space["seed"]["categorical"])


def rows(table):
    return [{"arm": arm, "seed": seed, "value": v} for arm, values in table.items() for seed, v in values.items()]


def test_paired_tests_pair_by_seed_and_leave_unpaired_seeds_out():
    table = {"no_dropout": {0: 0.60, 1: 0.58, 2: 0.66, 3: 0.5},  # seed 3 has no reference: left out of the pairs
             "full": {2: 0.70, 0: 0.65, 1: 0.61},
             "no_aug": {0: 0.55, 1: 0.50, 2: 0.57}}
    report = paired_tests(rows(table))
    assert report["reference"] == "full"
    arm = {a.arm: a for a in report["arms"]}
    ref, nd = [0.65, 0.61, 0.70], [0.60, 0.58, 0.66]
    assert arm["no_dropout"].n_pairs == 3
    assert arm["no_dropout"].mean_difference == pytest.approx(sum(nd) / 3 - sum(ref) / 3)
    assert arm["no_dropout"].t_p == pytest.approx(stats.ttest_rel(nd, ref).pvalue)
    assert arm["no_dropout"].wilcoxon_p == pytest.approx(0.25)  # 3 pairs, all worse: the smallest p with n = 3
    assert report["anova_p"] == pytest.approx(stats.f_oneway(*[list(v.values()) for v in table.values()]).pvalue)


def test_no_test_is_claimed_where_it_is_undefined():
    report = paired_tests(rows({"full": {0: 0.6, 1: 0.6}, "same": {0: 0.6, 1: 0.6}, "lone": {5: 0.4}}))
    arm = {a.arm: a for a in report["arms"]}
    assert arm["same"].t_p is None and arm["same"].wilcoxon_p is None  # no difference at all
    assert arm["lone"].n_pairs == 0 and arm["lone"].mean_difference is None
    assert report["anova_p"] is None  # every group with two values has zero variance


def test_the_report_reads_each_trials_run_and_skips_unfinished_or_deleted_ones(tmp_path):
    trials = []
    for n, (variant, seed, acc) in enumerate([("full", 0, 0.7), ("full", 1, 0.6), ("no_aug", 0, 0.5),
                                               ("no_aug", 1, 0.45)]):
        run = tmp_path / f"run{n}"
        run.mkdir()
        (run / "metrics.json").write_text(json.dumps({"test": {"accuracy": acc, "macro_f1": acc / 2},
                                                      "val": {"accuracy": 0.9}}))
        trials.append({"state": "complete", "run_id": run.name, "params": {"variant": variant, "seed": seed}})
    trials.append({"state": "pruned", "run_id": "run0", "params": {"variant": "no_aug", "seed": 2}})
    trials.append({"state": "complete", "run_id": "gone", "params": {"variant": "no_aug", "seed": 3}})
    report = ablation_report({"trials": trials}, tmp_path, metric="test accuracy")
    (no_aug,) = report["arms"]
    assert no_aug["n_pairs"] == 2 and no_aug["mean_difference"] == pytest.approx(-0.175)
    json.dumps(report, allow_nan=False)  # `sweep show --json` prints it
    assert ablation_report({"trials": trials}, tmp_path, metric="test macro F1")["arms"][0]["mean_difference"] \
        == pytest.approx(-0.0875)


def test_arms_without_variants_are_the_parameters_other_than_the_seed():
    assert arm_of({"variant": "full", "seed": 2}) == "full"
    assert arm_of({"model_options.stages": 3, "seed": 1, "augment_enabled": False}) == \
        "augment_enabled=False, model_options.stages=3"
