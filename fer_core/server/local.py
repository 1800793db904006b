"""Local server processes for tests and benches: a free loopback port, waiting until a URL answers, stopping the
process; and `local_server`, a `python -m fer_core serve` started, waited on until /healthz answers, and stopped.
`fer_core.app.browser.serve_app` runs the Streamlit app with the same pieces."""
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


def wait_until_answers(url: str, proc: subprocess.Popen, wait_s: float, what: str) -> None:
    """Poll `url` until it answers 200; fail with the process's last words if it exits first, or after `wait_s`."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if proc.poll() is not None:
            said = proc.stderr.read()[-2000:] if proc.stderr else ""
            raise RuntimeError(f"{what} exited ({proc.returncode}) before answering: {said}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not answer {url} within {wait_s:.0f} s")
        time.sleep(0.5)


def stop(proc: subprocess.Popen, wait_s: float = 30) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=wait_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def local_server(*args: str, command: list[str] | None = None, cwd=None, env=None, wait_s: float = 120,
                 stderr=subprocess.PIPE):
    """Yields (process, port). `command` replaces `python -m fer_core serve` (the README's own line, say); `args`
    follow it, then `--port`. Fails with the server's last words if it exits before answering."""
    port = free_port()
    cmd = [*(command or [sys.executable, "-m", "fer_core", "serve"]), *args, "--port", str(port)]
    server = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=stderr, text=True)
    try:
        wait_until_answers(f"http://127.0.0.1:{port}/healthz", server, wait_s, "the server")
        yield server, port
    finally:
        stop(server)
