"""FER Studio core: data, models, training, evaluation, inference. Pages, the CLI and the server are thin layers
over this package. `from fer_core import FER` is the one-call inference API (fer_core/api.py)."""
import sys

# streamlit_webrtc (pylibsrtp) must be imported before TensorFlow/Keras, or the process segfaults.
# Inside Streamlit (pages, AppTest) load it now; the CLI never imports it, so it skips the cost.
if "streamlit" in sys.modules:  # pragma: no branch
    try:
        import streamlit_webrtc  # noqa: F401
    except ImportError:
        pass

__version__ = "0.3.0"
__all__ = ["FER", "Face"]


def __getattr__(name: str):
    """`from fer_core import FER` loads the inference path only when asked: `import fer_core` stays light."""
    if name in ("FER", "Face"):
        from fer_core import api
        return getattr(api, name)
    raise AttributeError(f"module 'fer_core' has no attribute {name!r}")
