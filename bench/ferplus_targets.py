"""Do FERPlus soft labels help as training targets for FER2013? Two runs, same recipe and seed, one trained on
the FER2013 labels and one on the FERPlus vote distributions (`label_source=probability`), scored on FER2013's
own labels -> bench/results/ferplus_targets.json.

python bench/ferplus_targets.py --labels models/<labels run> --ferplus models/<probability run>
                                [--data ../shared/data/fer2013.csv.gz]

Reports, per split (PublicTest decides, PrivateTest is reported): accuracy with its 95% CI, per-class recall,
McNemar's test between the two runs, and the same against the FERPlus majority vote; plus how often the FERPlus
plurality agrees with the FER2013 label per class on Training (why the targets pull where they do).
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


def agreement(data: str) -> dict:
    from fer_core.data.dataset import UNMAPPED
    from fer_core.data.ferplus import votes_labels
    from fer_core.data.loading import load_dataset
    from fer_core.data.schemes import get_scheme
    ds = load_dataset(data)
    plurality = votes_labels(ds, "plurality", "fer2013")
    rows = (ds.splits == "Training") & (plurality != UNMAPPED)
    names = get_scheme("fer2013").classes
    return {"overall": round(float((plurality[rows] == ds.labels[rows]).mean()), 4), "n": int(rows.sum()),
            "per_fer2013_class": {name: round(float((plurality[rows & (ds.labels == c)] == c).mean()), 4)
                                  for c, name in enumerate(names)}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--labels", required=True, help="run trained on the FER2013 labels")
    parser.add_argument("--ferplus", required=True, help="run trained on FERPlus vote distributions")
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "fer2013.csv.gz"))
    parser.add_argument("--out", default=str(REPO / "bench" / "results" / "ferplus_targets.json"))
    args = parser.parse_args()
    from fer_core.evaluation.evaluate import evaluate
    from fer_core.evaluation.stats import mcnemar

    result = {"runs": {"labels": Path(args.labels).name, "ferplus": Path(args.ferplus).name}, "splits": {},
              "ferplus_agrees_with_fer2013_on_training": agreement(args.data)}
    for split in ("PublicTest", "PrivateTest"):
        for truth in ("labels", "majority"):
            evs = {name: evaluate([run], data=args.data, split=split, latency=False, ground_truth=truth)
                   for name, run in (("labels", args.labels), ("ferplus", args.ferplus))}
            a, b = evs["labels"], evs["ferplus"]
            same = a.ids is not None and b.ids is not None and np.array_equal(a.ids, b.ids)
            result["splits"][f"{split} vs {'FER2013 labels' if truth == 'labels' else 'FERPlus majority'}"] = {
                name: {"accuracy": round(ev.metrics["accuracy"], 4),
                       "ci": [round(v, 4) for v in ev.ci["accuracy_ci"]], "n": len(ev.y_true),
                       "recall": {c: round(v["recall"], 3) for c, v in ev.metrics["per_class"].items()}}
                for name, ev in evs.items()} | ({"mcnemar": mcnemar(a.correct, b.correct)} if same else {})
    result["measured"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
