"""Compare's evaluations, kept per server process: one computation per (runs, model files, options), bounded."""
from types import SimpleNamespace

import pytest

from fer_core.evaluation import memo

pytestmark = pytest.mark.unit  # layer (the folder says the subject)


def test_kept_per_runs_model_time_and_options_newest_kept(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(memo, "evaluate", lambda paths, progress=None, **options: calls.append((paths, options))
                        or SimpleNamespace(paths=paths, options=options))
    run = SimpleNamespace(id="r1", model_mtime=1, path=tmp_path / "r1")
    kept = memo.EvaluationMemo(limit=2)
    first = kept.evaluate([run], split="PrivateTest", tta="none")
    assert kept.evaluate([run], tta="none", split="PrivateTest") is first and len(calls) == 1  # option order: same
    kept.evaluate([run], split="PublicTest", tta="none")
    run.model_mtime = 2  # the run was trained again: evaluated again
    kept.evaluate([run], split="PrivateTest", tta="none")
    assert len(calls) == 3 and kept.get([run], split="PrivateTest", tta="none") is not None
    run.model_mtime = 1
    assert kept.get([run], split="PublicTest", tta="none") is not None
    assert kept.get([run], split="PrivateTest", tta="none") is None  # the oldest of three went (limit 2)
