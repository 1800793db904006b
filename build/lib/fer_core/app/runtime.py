"""Streamlit runtime behaviour that costs the Live stream frames, switched off for this app.

After every script run (a fragment's once-a-second refresh included) Streamlit calls
`keras.backend.clear_session()` and a full `gc.collect(2)`. With TensorFlow loaded both hold the GIL for
0.3-1 s, and the WebRTC worker thread stalls for that long every second: measured in bench/live_browser.py
as a third of the camera's frames processed. Models here are loaded once and cached, so there is no
per-run Keras state to clear; `runner.postScriptGC = false` in .streamlit/config.toml handles the GC.
"""
from __future__ import annotations


def _close_matplotlib_only() -> None:
    """What Streamlit's clean-up does besides clearing the Keras session: close pyplot figures."""
    import sys
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


def keep_keras_session() -> bool:
    """Stop Streamlit from clearing the Keras session after each run; True when the hook was found."""
    try:
        from streamlit.runtime.scriptrunner import script_runner
    except ImportError:
        return False
    if not hasattr(script_runner, "_clean_problem_modules"):
        return False
    script_runner._clean_problem_modules = _close_matplotlib_only
    return True
