"""FER Studio core: data, models, training, evaluation. Pages and the CLI are thin layers over this package."""
import sys

# streamlit_webrtc (pylibsrtp) must be imported before TensorFlow/Keras, or the process segfaults.
# Inside Streamlit (pages, AppTest) load it now; the CLI never imports it, so it skips the cost.
if "streamlit" in sys.modules:  # pragma: no branch
    try:
        import streamlit_webrtc  # noqa: F401
    except ImportError:
        pass

__version__ = "0.1.0"
