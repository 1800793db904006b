"""Team mode: every page behind a login (streamlit-authenticator; the login file is `fer_core.logins`).

Off unless FER_AUTH_FILE names the file, so a local single user never meets a login. In team mode the
annotator name on the Relabel page is the signed-in user. TLS comes from a reverse proxy (README "Security").
"""
from __future__ import annotations

from fer_core.errors import ConfigError, PermissionDenied
from fer_core.logins import add_user, auth_file, load_auth  # noqa: F401  (re-exported: pages and tests use them)


def require_login(stop: bool = True) -> str | None | bool:
    """In team mode: show the login form and stop the page until a user is signed in (with stop=False: return
    False instead, for the entry point to stop after registering the pages); returns the username. Outside
    team mode: None, and nothing is shown."""
    path = auth_file()
    if path is None:
        return None
    import streamlit as st
    import streamlit_authenticator as stauth

    from fer_core.app.ui import show_error
    try:
        config = load_auth(path)
    except ConfigError as exc:
        show_error(exc, "Team mode is misconfigured.")
        if stop:
            st.stop()
        return False
    authenticator = stauth.Authenticate(config["credentials"], config["cookie"]["name"], config["cookie"]["key"],
                                        float(config["cookie"].get("expiry_days", 1)), auto_hash=False)
    try:
        authenticator.login(location="main", max_login_attempts=10)
    except stauth.LoginError as exc:  # its text is meant for the user (e.g. too many attempts)
        show_error(PermissionDenied(str(exc)), "Cannot sign in.")
    status = st.session_state.get("authentication_status")
    if status is False:
        st.error("Wrong username or password.")
    if status is not True:
        if stop:
            st.stop()
        return False
    with st.sidebar:
        st.caption(f"Signed in as **{st.session_state.get('name')}**")
        authenticator.logout("Sign out", location="sidebar")
    return st.session_state.get("username")


def signed_in_user() -> str | None:
    """The signed-in username in team mode (the Relabel annotator), else None."""
    if auth_file() is None:
        return None
    import streamlit as st
    return st.session_state.get("username") if st.session_state.get("authentication_status") else None
