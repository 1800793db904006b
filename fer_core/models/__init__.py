"""Model architectures (Keras 3 functional API, backend-agnostic). `build_model(config)` is the entry point."""
from .registry import ARCHITECTURES, build_model  # noqa: F401
