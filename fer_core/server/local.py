"""A `python -m fer_core serve` process on a free loopback port, for tests and benches: started, waited on until
/healthz answers, stopped on the way out."""
from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def local_server(*args: str, command: list[str] | None = None, cwd=None, env=None, wait_s: float = 120,
                 stderr=subprocess.PIPE):
    """Yields (process, port). `command` replaces `python -m fer_core serve` (the README's own line, say); `args`
    follow it, then `--port`. Fails with the server's last words if it exits before answering."""
    port = free_port()
    cmd = [*(command or [sys.executable, "-m", "fer_core", "serve"]), *args, "--port", str(port)]
    server = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=stderr, text=True)
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    break
            except (urllib.error.URLError, OSError):
                if server.poll() is not None:
                    said = server.stderr.read()[-2000:] if server.stderr else ""
                    raise RuntimeError(f"the server exited ({server.returncode}) before answering: {said}") from None
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the server did not answer /healthz within {wait_s:.0f} s") from None
                time.sleep(0.5)
        yield server, port
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
