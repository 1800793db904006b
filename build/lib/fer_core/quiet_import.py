"""Keep TensorFlow's start-up notices out of the CLI's stderr, the job logs the Train page shows and the terminal
of `make run` (Home.py).

On CPUs where TensorFlow turns oneDNN on (AVX-512 and newer), importing it prints "oneDNN custom operations are
on" through absl before absl's logging is initialised, so TF_CPP_MIN_LOG_LEVEL cannot hide it. The notice is
written by C++ straight to file descriptor 2, so the only way to drop it is to point descriptor 2 elsewhere while
`tensorflow` is imported. Python errors raised by the import are not lost: they propagate as exceptions and are
printed after descriptor 2 is restored.
"""
from __future__ import annotations

import importlib.abc
import importlib.util
import os
import sys
from contextlib import contextmanager


@contextmanager
def fd2_silenced():
    """Send file descriptor 2 (C/C++ stderr) to /dev/null for the duration of the block."""
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        module.__loader__ = module.__spec__.loader = self.loader  # the package sees its own loader, as usual
        with fd2_silenced():
            self.loader.exec_module(module)


class _QuietTensorFlowFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)  # one import only; the real finders locate the package
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def quiet_tensorflow_import() -> None:
    """Hide TensorFlow's INFO/WARNING logs (unless TF_CPP_MIN_LOG_LEVEL is set) and silence descriptor 2 during the
    first `import tensorflow` of this process, for the notices that level cannot reach (no-op if already imported)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" not in sys.modules and not any(isinstance(f, _QuietTensorFlowFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlowFinder())
