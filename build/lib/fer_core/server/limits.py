"""What the server accepts, settable by environment variables; and the ASGI guard that enforces body sizes
before a byte is parsed (a 2 GB body is cut off at the limit, not read)."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass

from fer_core.inference.images import MAX_IMAGE_BYTES
from fer_core.inference.video import MAX_VIDEO_SECONDS


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


@dataclass
class Limits:
    image_bytes: int = MAX_IMAGE_BYTES  # one image
    batch_images: int = 32  # images per /v1/analyze/batch request
    batch_bytes: int = 100 * 1024**2  # a whole batch request
    video_bytes: int = 200 * 1024**2  # one video upload
    video_seconds: float = MAX_VIDEO_SECONDS  # analysed at most; longer videos are cut, and the job says so
    video_jobs: int = 8  # queued or running at once; more get 429
    jobs_kept: int = 100  # finished jobs kept for GET (oldest dropped first)

    @classmethod
    def from_env(cls) -> "Limits":
        d = cls()
        return cls(image_bytes=_env_int("FER_SERVER_MAX_IMAGE_BYTES", d.image_bytes),
                   batch_images=_env_int("FER_SERVER_MAX_BATCH", d.batch_images),
                   batch_bytes=_env_int("FER_SERVER_MAX_BATCH_BYTES", d.batch_bytes),
                   video_bytes=_env_int("FER_SERVER_MAX_VIDEO_BYTES", d.video_bytes),
                   video_seconds=_env_int("FER_SERVER_MAX_VIDEO_SECONDS", int(d.video_seconds)),
                   video_jobs=_env_int("FER_SERVER_MAX_VIDEO_JOBS", d.video_jobs))

    def body_limit(self, path: str) -> int:
        if path.startswith("/v1/videos"):
            return self.video_bytes + 64 * 1024  # the multipart framing around the file
        if path.startswith("/v1/analyze/batch"):
            return self.batch_bytes
        return self.image_bytes + 64 * 1024


def error_body(kind: str, message: str) -> bytes:
    return json.dumps({"error": {"kind": kind, "message": message}}).encode()


class BodyLimit:
    """ASGI middleware: 413 for a Content-Length over the route's limit, or for a streamed body that passes it."""

    def __init__(self, app, limits: Limits):
        self.app, self.limits = app, limits

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.limits.body_limit(scope.get("path", ""))
        declared = dict(scope.get("headers") or []).get(b"content-length")
        too_big = f"the request body is over the limit of {limit / 1024**2:.0f} MB for this endpoint"
        try:
            if declared is not None and int(declared) > limit:
                return await self._reject(send, too_big)
        except ValueError:
            return await self._reject(send, "the Content-Length header is not a number", 400)
        seen = 0
        started = False

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooBig()
            return message

        async def tracked_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracked_send)
        except _TooBig:
            if not started:
                await self._reject(send, too_big)

    @staticmethod
    async def _reject(send, message: str, status: int = 413):
        body = error_body("limit" if status == 413 else "request", message)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


class _TooBig(Exception):
    pass
