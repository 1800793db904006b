"""Model architectures (Keras 3 functional API, backend-agnostic). `build_model(config)` is the entry point."""
from fer_core.models.registry import ARCHITECTURES, build_model  # noqa: F401
