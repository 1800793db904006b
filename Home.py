"""The app's one entry point (`streamlit run Home.py`): page setup once, then the page the user picked."""
import streamlit_webrtc  # noqa: F401,I001  (must load before TensorFlow; see README "Pitfalls")
import streamlit as st

from fer_core.quiet_import import quiet_tensorflow_import

# TensorFlow's start-up chatter (absl banners, the oneDNN notice, XLA lines) stays out of the terminal of
# `make run`; descriptor 2 is silenced only while the first page that needs TensorFlow imports it (a few seconds).
quiet_tensorflow_import()

from fer_core.app.navigation import streamlit_pages  # noqa: E402
from fer_core.app.auth import require_login  # noqa: E402
from fer_core.app.runtime import keep_keras_session  # noqa: E402

keep_keras_session()  # no Keras clear_session after every run: it stalls the Live stream (see the module)

st.set_page_config(page_title="FER Studio", page_icon="🙂", layout="wide")
require_login()  # team mode only (FER_AUTH_FILE): every page behind a login
st.navigation(streamlit_pages()).run()
