"""Grid-review thresholds: how many images each setting offers for bulk confirmation, and how often the suggestion
equals the FERPlus majority label (the throughput bench's oracle) -> JSON.

python bench/relabel_thresholds.py [--data ../shared/data/fer2013.csv.gz] [--out bench/results/relabel_thresholds.json]

The defaults in fer_core.relabel.suggest.Thresholds are chosen on the Training rows; PublicTest and PrivateTest
show whether they hold. Suggestions come from the FERPlus votes and the default model (its own training rows are
optimistic for the model columns; the test splits are not).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import numpy as np  # noqa: E402

from fer_core.data.loading import load_dataset  # noqa: E402
from fer_core.relabel.suggest import (  # noqa: E402
    Thresholds,
    combine,
    model_distribution,
    oracle_labels,
    votes_distribution,
)
from fer_core.runs.store import default_run  # noqa: E402

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(SHARED / "fer2013.csv.gz"))
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "relabel_thresholds.json"))
    args = ap.parse_args()
    ds = load_dataset(args.data)
    run = default_run()
    t = time.perf_counter()
    model = model_distribution(run, ds, "fer2024")
    model_s = time.perf_counter() - t
    s = combine(votes_distribution(ds, "fer2024"), model, ("votes", run.id))
    oracle = oracle_labels(ds, "fer2024")
    out = {"data": ds.source, "data_version": ds.version, "model": run.id, "model_pass_s": round(model_s, 1),
           "default": vars(Thresholds()), "splits": {}}
    for split in ("Training", "PublicTest", "PrivateTest"):
        sel = ds.splits == split
        rows = []
        for share in (0.4, 0.5, 0.6, 0.7, 0.8):
            for agree in (False, True):
                ok = s.bulk_ok(Thresholds(share, agree)) & sel
                rows.append({"min_votes_share": share, "require_agreement": agree,
                             "coverage": round(float(ok.sum() / sel.sum()), 4),
                             "precision_vs_oracle": round(float((s.label[ok] == oracle[ok]).mean()), 4)})
        model_only = []
        for p in (0.5, 0.6, 0.7, 0.8):
            ok = sel & (np.nan_to_num(s.model_prob) >= p)
            model_only.append({"min_model_prob": p, "coverage": round(float(ok.sum() / sel.sum()), 4),
                               "precision_vs_oracle": round(float((s.model_label[ok] == oracle[ok]).mean()), 4)})
        out["splits"][split] = {"n": int(sel.sum()), "votes_and_model": rows, "model_only": model_only}
        print(split, json.dumps(rows[4]), json.dumps(model_only[2]))
    Path(args.out).write_text(json.dumps(out, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
