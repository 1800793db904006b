"""Dawid–Skene against majority vote on FERPlus' own votes -> JSON: how often the two consensus labels differ,
and which trains the better model (same recipe, PublicTest for selection, PrivateTest scored on the FERPlus
majority, McNemar's test between the two).

python bench/ferplus_consensus.py [--runs RUN_MAJORITY RUN_DAWID_SKENE] [--out bench/results/ferplus_consensus.json]

The runs are trained beforehand with the same config but `label_source` majority / dawid-skene, e.g.
python -m fer_core train --config CONFIG.json --set label_source=dawid-skene
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data" / "fer2013.csv.gz"


def votes_report() -> dict:
    from fer_core.data.ferplus import UNKNOWN, labels_from_votes, load_votes
    from fer_core.data.schemes import get_scheme
    votes, usage = load_votes(DATA.parent / "fer2013new.csv")
    t = time.perf_counter()
    ds = labels_from_votes(votes, "dawid-skene")
    ds_s = time.perf_counter() - t
    mv = labels_from_votes(votes, "majority")
    both = (ds < UNKNOWN) & (mv < UNKNOWN)
    names = get_scheme("ferplus").classes
    pairs: dict = {}
    for a, b in zip(mv[both & (ds != mv)], ds[both & (ds != mv)]):
        key = f"{names[a]} -> {names[b]}"
        pairs[key] = pairs.get(key, 0) + 1
    per_split = {}
    for split in ("Training", "PublicTest", "PrivateTest"):
        m = usage == split
        per_split[split] = {"images": int(m.sum()), "differ": int((m & (ds != mv)).sum()),
                            "differ_where_both_labelled": int((m & both & (ds != mv)).sum())}
    return {"images": len(votes), "dawid_skene_seconds": round(ds_s, 2),
            "majority_unknown_or_not_face": int((mv >= UNKNOWN).sum()),
            "dawid_skene_unknown_or_not_face": int((ds >= UNKNOWN).sum()),
            "labelled_by_dawid_skene_only": int(((ds < UNKNOWN) & (mv >= UNKNOWN)).sum()),
            "differ": int((ds != mv).sum()), "differ_share": round(float((ds != mv).mean()), 4),
            "both_labelled": int(both.sum()), "differ_where_both_labelled": int((both & (ds != mv)).sum()),
            "differ_share_where_both_labelled": round(float((both & (ds != mv)).sum() / both.sum()), 4),
            "most_common_changes_majority_to_ds": dict(sorted(pairs.items(), key=lambda kv: -kv[1])[:8]),
            "per_split": per_split}


def runs_report(paths: list[str]) -> dict:
    from fer_core.evaluation.evaluate import evaluate
    from fer_core.evaluation.stats import mcnemar
    from fer_core.runs.run import Run
    out, evals = {}, {}
    for path in paths:
        run = Run.load(path)
        source = run.label_source
        for split in ("PublicTest", "PrivateTest"):
            ev = evaluate(path, data=str(DATA), split=split, ground_truth="majority", latency=False)
            out.setdefault(source, {"run": Path(path).name})[split] = {
                "accuracy": round(ev.metrics["accuracy"], 4), "macro_f1": round(ev.metrics["macro_f1"], 4),
                "accuracy_95ci": [round(x, 4) for x in ev.ci["accuracy_ci"]], "images": int(len(ev.y_true))}
            if split == "PrivateTest":
                evals[source] = ev
    if len(evals) == 2:
        a, b = evals.values()
        assert np.array_equal(a.ids, b.ids), "both runs are scored on the same PrivateTest images"
        out["mcnemar_privatetest"] = mcnemar(a.correct, b.correct)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", nargs="*", default=[])
    parser.add_argument("--out", default=str(REPO / "bench" / "results" / "ferplus_consensus.json"))
    args = parser.parse_args()
    report = {"measured": time.strftime("%Y-%m-%dT%H:%M:%S"), "votes": votes_report()}
    if args.runs:
        report["training"] = runs_report(args.runs)
        report["recipe"] = json.loads((Path(args.runs[0]) / "config.json").read_text()).get("train_config")
    Path(args.out).write_text(json.dumps(report, indent=2, default=float))
    print(json.dumps(report, indent=2, default=float)[:3000])


if __name__ == "__main__":
    main()
