"""TensorFlow's start-up notices are written by C++ to descriptor 2: the CLI silences it during that import only."""
import subprocess
import sys

import pytest

from conftest import REPO

pytestmark = pytest.mark.processes  # layer (the folder says the subject)

SNIPPET = """
import os, sys
from fer_core.quiet_import import fd2_silenced, quiet_tensorflow_import
with fd2_silenced():
    os.write(2, b"hidden\\n")
os.write(2, b"after-block\\n")
quiet_tensorflow_import()
import json  # any other import goes through the normal finders
import tensorflow as tf
assert tf.__spec__.loader is tf.__loader__ and type(tf.__loader__).__name__ != "_QuietLoader"
os.write(2, b"after-import\\n")
raise SystemExit(3)
"""


def test_descriptor_2_is_silenced_only_inside_the_block_and_the_tensorflow_import():
    out = subprocess.run([sys.executable, "-c", SNIPPET], cwd=REPO, capture_output=True, text=True, timeout=120,
                         env={"PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert out.returncode == 3, out.stderr
    lines = out.stderr.strip().splitlines()
    assert lines == ["after-block", "after-import"], lines  # nothing from TensorFlow's import, e.g. its oneDNN notice
