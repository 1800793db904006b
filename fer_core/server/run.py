"""`python -m fer_core serve`: uvicorn on 127.0.0.1:8000 unless configured; API keys required in team mode."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from fer_core.errors import ConfigError
from fer_core.live.detector_names import DETECTORS

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
    from fer_core.logins import auth_file
    if auth_file() is not None and not keys:
        raise ConfigError("team mode is on (FER_AUTH_FILE) but no API keys are set",
                          fix="set FER_API_KEYS=key1,key2 (16+ characters each) or FER_API_KEYS_FILE")
    return keys


def app_from_env():
    """The app of one server process (uvicorn's factory when serving with several processes): the settings
    `serve` checked and put in the environment."""
    import cv2

    from fer_core.api import FER
    from fer_core.server.app import create_app
    cv2.setNumThreads(1)  # each process runs one request per core it has; OpenCV's own threads would oversubscribe
    os.environ.setdefault("FER_DETECT_THREADS", "1")  # and so would two detector threads per request
    env = os.environ
    detector = env.get("FER_SERVER_DETECTOR", DETECTORS[0])
    fer = FER(env.get("FER_SERVER_MODEL") or None, detector=None if detector == "none" else detector,
              backend=env.get("FER_SERVER_BACKEND", "auto"), threads=1)
    return create_app(fer, api_keys=api_keys(), workers=int(env.get("FER_SERVER_THREADS", 1)),
                      jobs_dir=env.get("FER_SERVER_JOBS_DIR") or None)


def serve(model=None, host: str | None = None, port: int | None = None, detector: str | None = DETECTORS[0],
          backend: str = "auto", processes: int | None = None) -> None:
    """Check the settings here (one clear error, exit 2), then run `processes` server processes (default: one per
    core) that share the port and the video jobs folder. Several processes, not threads, because the request
    path holds Python's GIL for part of each request: bench/results/serve_load.json."""
    import shutil
    import tempfile

    import uvicorn

    from fer_core.api import _detector_settings, resolve_model
    from fer_core.server.protocol import protocol_path
    host = host or os.environ.get("FER_SERVER_HOST", "127.0.0.1")
    port = int(port or os.environ.get("FER_SERVER_PORT", 8000))
    processes = int(processes or os.environ.get("FER_SERVER_PROCESSES") or os.cpu_count() or 1)
    keys = api_keys()
    _detector_settings(detector, 40, True)
    source = resolve_model(model)  # RunError now, not in every process
    if host not in LOOPBACK and not keys:
        print(f"warning: listening on {host} without API keys: anyone who can reach this port can use the model "
              "(set FER_API_KEYS)", file=sys.stderr)
    jobs_dir = tempfile.mkdtemp(prefix="fer-server-jobs-")
    # requests each process runs at once: one per core, so a process that got more of the connections than the
    # others (the kernel hands them out unevenly) can still use every core
    threads = os.cpu_count() or 1
    os.environ.update(FER_SERVER_MODEL=str(getattr(source, "path", source)), FER_SERVER_DETECTOR=detector or "none",
                      FER_SERVER_BACKEND=backend, FER_SERVER_JOBS_DIR=jobs_dir, FER_SERVER_THREADS=str(threads))
    print(f"FER Studio server: http://{host}:{port}/docs (model {Path(str(getattr(source, 'path', source))).name}, "
          f"{processes} process{'es' if processes > 1 else ''})", file=sys.stderr)
    try:
        options = dict(host=host, port=port, log_level="warning", server_header=False, timeout_keep_alive=5,
                       h11_max_incomplete_event_size=64 * 1024, http=protocol_path())
        if processes == 1:
            uvicorn.run(app_from_env(), **options)
        else:
            uvicorn.run("fer_core.server.run:app_from_env", factory=True, workers=processes, **options)
    finally:
        shutil.rmtree(jobs_dir, ignore_errors=True)
