"""`python -m fer_core serve`: uvicorn on 127.0.0.1:8000 unless configured; API keys required in team mode."""
from __future__ import annotations

import os
import sys

from fer_core.errors import ConfigError

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def api_keys() -> list[str]:
    """FER_API_KEYS (comma-separated) or the lines of FER_API_KEYS_FILE. Required when team mode is on
    (FER_AUTH_FILE set): a team's server never answers without a key."""
    keys = [k.strip() for k in os.environ.get("FER_API_KEYS", "").split(",") if k.strip()]
    file = os.environ.get("FER_API_KEYS_FILE", "").strip()
    if file:
        try:
            keys += [line.strip() for line in open(file) if line.strip() and not line.startswith("#")]
        except OSError as exc:
            raise ConfigError(f"cannot read the API keys file ({exc.strerror})", path=file) from None
    short = [k for k in keys if len(k) < 16]
    if short:
        raise ConfigError("API keys need 16 or more characters", fix="e.g. python -c 'import secrets; print(secrets.token_urlsafe(24))'")
    from fer_core.app.auth import auth_file
    if auth_file() is not None and not keys:
        raise ConfigError("team mode is on (FER_AUTH_FILE) but no API keys are set",
                          fix="set FER_API_KEYS=key1,key2 (16+ characters each) or FER_API_KEYS_FILE")
    return keys


def serve(model=None, host: str | None = None, port: int | None = None, detector: str | None = "blazeface",
          backend: str = "auto") -> None:
    import uvicorn

    from fer_core.api import FER
    from fer_core.server.app import create_app
    host = host or os.environ.get("FER_SERVER_HOST", "127.0.0.1")
    port = int(port or os.environ.get("FER_SERVER_PORT", 8000))
    keys = api_keys()
    import cv2
    cv2.setNumThreads(1)  # the server runs one request per core; OpenCV's own threads would oversubscribe them
    if host not in LOOPBACK and not keys:
        print(f"warning: listening on {host} without API keys: anyone who can reach this port can use the model "
              "(set FER_API_KEYS)", file=sys.stderr)
    app = create_app(FER(model, detector=detector, backend=backend, threads=1), api_keys=keys)
    print(f"FER Studio server: http://{host}:{port}/docs (model {app.state.fer.model_id}, "
          f"{app.state.fer.model.name})", file=sys.stderr)
    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False, timeout_keep_alive=5,
                h11_max_incomplete_event_size=64 * 1024)
