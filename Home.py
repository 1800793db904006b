"""The app's one entry point (`streamlit run Home.py`): page setup once, then the page the user picked."""
import streamlit_webrtc  # noqa: F401,I001  (must load before TensorFlow; see README "Pitfalls")
import streamlit as st

from fer_core.quiet_import import quiet_tensorflow_import

# TensorFlow's start-up chatter (absl banners, the oneDNN notice, XLA lines) stays out of the terminal of
# `make run`; descriptor 2 is silenced only while the first page that needs TensorFlow imports it (a few seconds).
quiet_tensorflow_import()

from fer_core.app.navigation import streamlit_pages  # noqa: E402
from fer_core.app.auth import auth_file, require_login  # noqa: E402
from fer_core.app.runtime import keep_keras_session  # noqa: E402

keep_keras_session()  # no Keras clear_session after every run: it stalls the Live stream (see the module)

st.set_page_config(page_title="FER Studio", page_icon="🙂", layout="wide")
# The pages are registered before the login so a deep link (/Relabel) survives it: the login's cookie check
# reruns the script and that rerun no longer carries the path, so the page asked for is remembered first and
# opened once someone is signed in. While signed out the menu is hidden and no page runs.
pages = streamlit_pages()
signed_in = auth_file() is None or st.session_state.get("authentication_status") is True
page = st.navigation(pages, position="sidebar" if signed_in else "hidden")
if not signed_in and page.url_path:
    st.session_state["page_after_login"] = page.url_path
if require_login(stop=False) is False:  # team mode only (FER_AUTH_FILE): every page behind a login
    st.stop()
wanted = st.session_state.pop("page_after_login", None)
if wanted and wanted != page.url_path:
    st.switch_page(next(p for p in pages if p.url_path == wanted))
page.run()
