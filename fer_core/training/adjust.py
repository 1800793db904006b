"""Post-hoc logit adjustment: a remedy for rare classes (FER2013's 436 disgust images) after training.

A model trained on imbalanced data under-predicts rare classes. Subtracting tau * log(class prior) from its
logits (Menon et al., "Long-tail learning via logit adjustment", 2021) moves decisions towards them. Here the
shift is baked into the bias of the final softmax Dense layer, so the adjusted model is an ordinary run: same
architecture, same file format, same inference cost. tau is chosen on the validation split only (the
run's `val_split`, PublicTest for FER2013); the test split is scored once, afterwards.
"""
from __future__ import annotations

import shlex
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np

from fer_core.errors import RunError
from fer_core.runs import layout
from fer_core.runs.record import finalize_run

TAUS = tuple(np.round(np.arange(0.0, 1.01, 0.1), 2))


def adjusted_probs(probs: np.ndarray, log_prior: np.ndarray, tau: float) -> np.ndarray:
    """Softmax probabilities with the logits shifted by -tau * log(prior) (probabilities fix logits up to a
    constant, which softmax ignores)."""
    logits = np.log(np.clip(probs, 1e-12, 1.0)) - tau * log_prior
    logits -= logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True)


def select_tau(probs: np.ndarray, labels: np.ndarray, log_prior: np.ndarray, taus=TAUS,
               criterion: str = "accuracy") -> tuple[float, list[dict]]:
    """The tau with the best criterion on this (validation) split; ties go to the smaller tau."""
    from fer_core.evaluation.classification import classification_metrics
    k = probs.shape[1]
    rows = []
    for tau in taus:
        m = classification_metrics(labels, adjusted_probs(probs, log_prior, tau), [str(i) for i in range(k)])
        rows.append({"tau": float(tau), "accuracy": m["accuracy"], "macro_f1": m["macro_f1"],
                     "min_recall": min(c["recall"] for c in m["per_class"].values())})
    best = max(rows, key=lambda r: (round(r[criterion], 6), -r["tau"]))
    return best["tau"], rows


def raise_min_recall(log_probs: np.ndarray, labels: np.ndarray, min_recall: float, step: float = 0.02,
                     limit: float = 3.0) -> np.ndarray:
    """Per-class logit offsets, found on a validation split, that give every class at least `min_recall`:
    the class furthest below is raised by `step` until none is below. The smallest offsets that do it, so
    accuracy pays as little as the constraint allows. RunError when a class would need more than `limit`."""
    k = log_probs.shape[1]
    offsets = np.zeros(k)
    counts = np.maximum(np.bincount(labels, minlength=k), 1)
    while True:
        pred = (log_probs + offsets).argmax(axis=1)
        recall = np.bincount(labels[pred == labels], minlength=k) / counts
        worst = int(np.argmin(recall))
        if recall[worst] >= min_recall:
            return offsets
        offsets[worst] += step
        if offsets[worst] > limit:
            raise RunError(f"class {worst} cannot reach a recall of {min_recall:.2f} on the validation split",
                           fix="ask for a lower --min-recall, or train a model that separates that class better")


def final_dense(model):
    import keras
    layer = model.layers[-1]
    if not isinstance(layer, keras.layers.Dense) or layer.get_config().get("activation") != "softmax":
        raise RunError("the model does not end in a softmax Dense layer, so its logits cannot be shifted",
                       fix="logit adjustment works for the registry's classifiers (they all end that way)")
    return layer


def adjust_run(run_dir: str | Path, out_root: str | Path | None = None, taus=TAUS, criterion: str = "accuracy",
               label: str | None = None, min_recall: float | None = None) -> Path:
    """A new run `<run-id>-la<tau>` beside `run_dir`: the same model with tau * log(prior) taken off the
    final bias, tau selected on the run's validation split, metrics for val and test, and the commands.
    With `min_recall`, per-class offsets found on the validation split then lift every class to that
    recall there (`-r<percent>` is added to the name)."""
    from fer_core.evaluation.classification import classification_metrics
    from fer_core.models.predict import predict_probs
    from fer_core.runs.loader import load_model_copy
    from fer_core.runs.run import Run
    from fer_core.training.config import TrainConfig
    from fer_core.training.data import prepare
    from fer_core.training.environment import display_path

    run = Run.load(run_dir).require_usable()
    cfg = TrainConfig.from_dict(run.config["train_config"]).resolved()
    data = prepare(cfg)
    if data.data_version != run.config.get("data_version"):
        raise RunError("the data changed since the run was trained", path=cfg.data,
                       fix="adjust with the dataset the run was trained on")
    model = load_model_copy(run)  # never the cached model: its weights change below
    counts = np.bincount(data.train.labels, minlength=len(data.class_names)).astype(float)
    log_prior = np.log(np.maximum(counts, 1) / counts.sum())
    val_probs = predict_probs(model, data.val.images)
    tau, table = select_tau(val_probs, data.val.labels, log_prior, taus, criterion)
    offsets = np.zeros(len(log_prior))
    if min_recall is not None:
        if not 0 < min_recall < 1:
            raise RunError(f"min_recall must be between 0 and 1, got {min_recall}")
        shifted = np.log(adjusted_probs(val_probs, log_prior, tau))  # the same shift select_tau scored
        offsets = raise_min_recall(shifted, data.val.labels, min_recall)

    dense = final_dense(model)
    kernel, bias = dense.get_weights()
    dense.set_weights([kernel, (bias - tau * log_prior + offsets).astype(bias.dtype)])
    out_root = Path(out_root) if out_root else Path(run.path).parent
    new_id = f"{Path(run.path).name}-la{tau:.1f}".replace(".", "")
    if min_recall is not None:
        new_id += f"-r{round(100 * min_recall)}"
    out = out_root / new_id
    if out.exists():
        raise RunError("an adjusted run of this name exists already", path=str(out), fix="delete it first")
    metrics = {"classes": list(data.class_names)}
    for split_name, arrays in (("val", data.val), ("test", data.test)):
        if arrays is not None:
            metrics[split_name] = classification_metrics(arrays.labels, predict_probs(model, arrays.images),
                                                         data.class_names)
            metrics[split_name]["split"] = getattr(cfg, f"{split_name}_split")
    base = run.record
    adjustment = {"tau": tau, "selected_on": cfg.val_split, "criterion": criterion,
                  "log_prior": [round(float(v), 5) for v in log_prior], "candidates": table}
    if min_recall is not None:
        adjustment.update(min_recall=min_recall, class_offsets={
            name: round(float(o), 3) for name, o in zip(data.class_names, offsets)})
    record = replace(
        base, run_id=new_id, adjusted_from=Path(run.path).name, logit_adjustment=adjustment,
        label=label or base.label,
        # the config travels with the adjusted run, so the command needs nothing but this folder
        command=f"python -m fer_core train --config {shlex.quote(display_path(out / layout.CONFIG))}"
                f"  # then: python -m fer_core runs adjust <the new run folder> --criterion {criterion}"
                + (f" --min-recall {min_recall}" if min_recall is not None else ""),
        notes=list(base.notes) + [
            f"Logit adjustment: tau = {tau} selected on {cfg.val_split} ({criterion}); "
            f"the final bias is shifted by -tau * log(training class prior)."] + (
            [f"Per-class offsets chosen on {cfg.val_split} lift every class's recall there to "
             f"{min_recall:.2f} or more."] if min_recall is not None else []))
    tmp = out_root / (new_id + layout.PARTIAL)
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    return finalize_run(tmp, record, metrics=metrics, model=model, copy_from=Path(run.path))
