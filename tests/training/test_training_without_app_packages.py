"""GPU hosts have Keras + NumPy (+ Pillow) but no OpenCV, pandas, scikit-learn or Streamlit: the training path
(CLI, data loading, packs, engine) must not import them. This runs a tiny training with those imports blocked."""
import json
import subprocess
import sys

import pytest

from conftest import REPO

pytestmark = pytest.mark.training  # layer (the folder says the subject)

BLOCKER = """
import builtins, sys
BLOCKED = {"cv2", "pandas", "sklearn", "streamlit", "plotly", "scipy", "streamlit_webrtc"}
real = builtins.__import__
def guarded(name, *args, **kwargs):
    if name.split(".")[0] in BLOCKED:
        raise ImportError(f"{name} is not installed on GPU hosts")
    return real(name, *args, **kwargs)
builtins.__import__ = guarded
from fer_core.cli import main
status = main(sys.argv[1:])
loaded = sorted(m for m in BLOCKED if m in sys.modules)  # even one whose ImportError was caught and passed over
if loaded:
    print("imported: " + ", ".join(loaded), file=sys.stderr)
sys.exit(status or 3 * bool(loaded))
"""


@pytest.mark.parametrize("splits", [["Training", "PublicTest"], ["Training"]], ids=["with-validation", "hold-out"])
def test_cli_training_on_a_pack_needs_no_app_packages(tmp_path, splits):
    # the pack itself is written here (OpenCV encodes); the blocked process only decodes it, with Pillow.
    # Without a validation split, training holds out a share of Training: that split must not need scikit-learn.
    from fer_core.data.loading import load_dataset
    from fer_core.data.pack import write_pack
    pack = tmp_path / "demo.ferpack.npz"
    write_pack(load_dataset("demo"), pack, splits=splits)
    out = subprocess.run([sys.executable, "-c", BLOCKER, "train", "--arch", "cnn004", "--data", str(pack),
                          "--epochs", "1", "--max-steps", "2", "--set", "batch_size=16", "--set", "augment.erasing=0.5",
                          "--out", str(tmp_path / "runs"), "--json"],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    record = json.loads(out.stdout[out.stdout.index("{"):])
    assert record["status"] == "completed"
    assert any("Lossy WebP q95 pack" in n for n in record["notes"])
    assert any("held out for validation" in n for n in record["notes"]) == (splits == ["Training"])
