"""Public functions raise FerStudioError kinds (what is wrong, where, the fix), never a bare builtin exception."""
import json

import numpy as np
import pytest

from fer_core.errors import ConfigError, DataError, RunError, StoreError

pytestmark = pytest.mark.unit  # layer (the folder says the subject)


def test_unknown_architectures_and_cnn004_shapes_are_config_errors():
    from fer_core.models.registry import build_model, check_model_options
    with pytest.raises(ConfigError, match="unknown architecture 'nope'") as err:
        build_model("nope", 7)
    assert "cnn004" in err.value.fix
    with pytest.raises(ConfigError, match="unknown architecture"):
        check_model_options("nope", {})
    with pytest.raises(ConfigError, match="stages must be 1-4") as err:
        build_model("cnn004", 7, stages=5)
    assert "model_options" in err.value.fix
    with pytest.raises(ConfigError, match="stages must be 1-4"):
        build_model("cnn004", 7, stages="many")


def test_a_model_without_a_feature_map_cannot_be_explained():
    import keras

    from fer_core.explain.overlays import target_conv_layer
    inputs = keras.Input((16,))  # no 4-D layer at all (a 48x48 input would itself count as a feature map)
    model = keras.Model(inputs, keras.layers.Dense(7, activation="softmax")(inputs))
    with pytest.raises(RunError, match="no convolutional feature map") as err:
        target_conv_layer(model)
    assert "'none'" in err.value.fix


def test_a_dataset_whose_columns_do_not_line_up_is_a_data_error():
    from fer_core.data.dataset import Dataset
    with pytest.raises(DataError, match="labels has 2 rows, images 3") as err:
        Dataset("t", "t.csv", "fer2013", np.zeros((3, 48, 48), np.uint8), np.zeros(2, int),
                np.array(["Training"] * 3), np.array(["a", "b", "c"]), "v1")
    assert err.value.path == "t.csv"
    with pytest.raises(DataError, match="48 x 48 uint8"):
        Dataset("t", "t.csv", "fer2013", np.zeros((3, 32, 32), np.uint8), np.zeros(3, int),
                np.array(["Training"] * 3), np.array(["a", "b", "c"]), "v1")


def _job(store, job_id: str, state) -> None:
    d = store.root / job_id
    d.mkdir(parents=True)
    (d / "job.json").write_text(json.dumps(state))


def test_job_store_waits_fail_as_store_errors_and_odd_job_files_do_not_crash_it(tmp_path):
    from fer_core.jobs.store import JobStore, job_rows
    store = JobStore(root=tmp_path / ".jobs", models_root=tmp_path)
    queued, odd, listed = "job-20260101-000000-aaaaaa", "job-20260101-000001-bbbbbb", "job-20260101-000002-cccccc"
    _job(store, queued, {"id": queued, "status": "queued", "created": "2026-01-01T00:00:00"})
    with pytest.raises(StoreError, match=f"job {queued} still queued after 0.1 s") as err:
        store.wait(queued, timeout=0.1, poll=0.05)
    assert "fer_core jobs" in err.value.fix
    _job(store, odd, {"created": "2026"})  # no id, no status
    _job(store, listed, ["not", "a", "job"])
    assert store.read(listed)["status"] == "failed"
    assert store.cancel(odd)["created"] == "2026"  # neither queued nor running: left as it is
    assert {r["job"] for r in job_rows([store.read(odd), store.read(listed)])} == {None, listed}
    store.reconcile()


def test_a_job_store_where_it_cannot_write_says_so(tmp_path):
    from fer_core.jobs.store import JobStore
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match="cannot write the jobs folder") as err:
        JobStore(models_root=blocker)
    assert err.value.path == str(blocker / ".jobs") and "FER_MODELS_DIR" in err.value.fix


def test_an_export_into_a_folder_that_cannot_be_written_is_a_store_error(tmp_path, monkeypatch):
    from fer_core.data.dataset import Dataset
    from fer_core.relabel.project import RelabelProject
    monkeypatch.setenv("FER_RELABEL_DIR", str(tmp_path / "relabel"))
    ds = Dataset("t", "t.csv", "fer2013", np.zeros((2, 48, 48), np.uint8), np.array([3, 4]),
                 np.array(["Training"] * 2), np.array(["a", "b"]), "v1")
    project = RelabelProject("p", ds)
    project.label(0, "ann", 3)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match="the export could not be written") as err:
        project.export(blocker / "out", "annotator", "ann", images=False)
    assert err.value.path == str(blocker / "out") and "folder" in err.value.fix
