"""FastAPI application: the same `FER` path and the same one-line messages as the CLI, as JSON.

Every error is {"error": {"kind", "message"}} with a 4xx status for anything a client sent (5xx only for the
server's own faults, without a traceback). Inference runs in FastAPI's thread pool on one `FER` clone per core
(a private detector network each; the model is shared), so requests beyond that wait instead of oversubscribing.
"""
from __future__ import annotations

import hmac
import json
import logging
import os
import queue
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from fer_core import __version__
from fer_core.errors import DataError, FerStudioError
from fer_core.inference.images import decode_image
from fer_core.server.limits import BodyLimit, Limits, _TooBig

log = logging.getLogger("fer_core.server")
STATUS = {"data": 400, "config": 400, "run": 404, "store": 503, "cancelled": 409}


class ApiError(Exception):
    def __init__(self, status: int, kind: str, message: str):
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message


def _error(status: int, kind: str, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": {"kind": kind, "message": message}}, status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for e in exc.errors()[:3]:
        where = ".".join(str(x) for x in e.get("loc", ())[1:]) or "body"
        if e.get("type") == "missing":
            parts.append(f"'{where}' is missing")
        else:
            parts.append(f"'{where}': {e.get('msg', 'invalid')}")
    return "; ".join(parts) + " — send files as multipart/form-data (see /docs)"


def _safe_name(upload: UploadFile, default: str) -> str:
    name = Path(upload.filename or default).name[:100]
    return "".join(c if c.isprintable() else "?" for c in name) or default


def _read_upload(upload: UploadFile, limit: int, name: str) -> bytes:
    return _check_size(upload.file.read(limit + 1), limit, name)


def _check_size(data: bytes, limit: int, name: str) -> bytes:
    if len(data) > limit:
        raise ApiError(413, "limit", f"{name}: the file is over the limit of {limit / 1024**2:.0f} MB")
    if not data:
        raise ApiError(400, "data", f"{name}: the file is empty — send an image file")
    return data


def create_app(fer=None, limits: Limits | None = None, api_keys: list[str] | None = None,
               workers: int | None = None, jobs_dir: str | None = None) -> FastAPI:
    """The server's app. `fer` defaults to FER() (the default model, ONNX Runtime, BlazeFace); `workers` FER
    clones run requests in parallel (default: one per core); `jobs_dir` is shared by all server processes."""
    from fer_core.api import FER
    limits = limits or Limits.from_env()
    fer = fer or FER(threads=1)
    keys = [k for k in (api_keys or []) if k]
    pool: queue.Queue = queue.Queue()
    for _ in range(workers or os.cpu_count() or 1):
        pool.put(fer.clone())
    from fer_core.server.videos import VideoJobs
    videos = VideoJobs(fer.clone(), limits, jobs_dir)

    @asynccontextmanager
    async def lifespan(_app):
        yield
        videos.close()

    app = FastAPI(title="FER Studio", version=__version__, lifespan=lifespan,
                  description="Facial emotion recognition with a FER Studio model: every face in an image, a batch "
                              "of images or a video, with each class's probability. Errors are JSON: "
                              "{\"error\": {\"kind\", \"message\"}}.")
    app.state.fer, app.state.limits, app.state.videos = fer, limits, videos

    @contextmanager
    def borrow():
        worker = pool.get()
        try:
            yield worker
        finally:
            pool.put(worker)

    async def check_key(request: Request) -> None:  # async: no thread-pool hop per request
        if not keys:
            return
        given = request.headers.get("x-api-key") or ""
        auth = request.headers.get("authorization") or ""
        if auth.lower().startswith("bearer "):
            given = given or auth[7:].strip()
        if not any(hmac.compare_digest(given.encode(), k.encode()) for k in keys):
            raise ApiError(401, "auth", "a valid API key is required — send it as the X-API-Key header")

    @app.exception_handler(ApiError)
    async def _api_error(_request, exc: ApiError):
        return _error(exc.status, exc.kind, exc.message)

    @app.exception_handler(FerStudioError)
    async def _fer_error(_request, exc: FerStudioError):
        return _error(STATUS.get(exc.kind, 400), exc.kind, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request, exc: RequestValidationError):
        return _error(400, "request", _validation_message(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request, exc: StarletteHTTPException):
        message = {404: "no such endpoint — see /docs", 405: "method not allowed — see /docs"}.get(exc.status_code)
        return _error(exc.status_code, "request", message or str(exc.detail))

    @app.exception_handler(_TooBig)
    async def _too_big(request: Request, _exc):
        limit = limits.body_limit(request.url.path)
        return _error(413, "limit", f"the request body is over the limit of {limit / 1024**2:.0f} MB for this "
                                    "endpoint", headers={"connection": "close"})

    @app.exception_handler(Exception)
    async def _internal(_request, exc: Exception):
        log.exception("internal error")
        return _error(500, "internal", f"internal error ({type(exc).__name__}); the server log has the details")

    def model_facts() -> dict:
        run = fer.run
        test = (run.metrics.get("test") or {}) if run is not None else {}
        return {"id": fer.model_id, "backend": fer.model.name, "classes": fer.class_names,
                "input_size": fer.model.input_size, "detector": fer.detector.settings.name if fer.detector else None,
                "test_accuracy": test.get("accuracy"), "test_split": test.get("split")}

    @app.get("/healthz", summary="Liveness: the model is loaded")
    def healthz():
        return {"status": "ok", "model": fer.model_id, "video_jobs_active": videos.active()}

    @app.get("/v1/models", summary="The model this server runs, and its limits", dependencies=[Depends(check_key)])
    def models():
        return {"models": [model_facts()],
                "limits": {"image_bytes": limits.image_bytes, "batch_images": limits.batch_images,
                           "batch_bytes": limits.batch_bytes, "video_bytes": limits.video_bytes,
                           "video_seconds": limits.video_seconds}}

    def analyze_bytes(data: bytes, name: str) -> bytes:
        img = decode_image(data, name)
        with borrow() as worker:
            faces = worker.predict_batch([img])[0]
        return json.dumps({"model": fer.model_id, "width": int(img.shape[1]), "height": int(img.shape[0]),
                           "faces": [f.to_dict() for f in faces]}).encode()

    @app.post("/v1/analyze", summary="Every face in one image", dependencies=[Depends(check_key)])
    async def analyze(image: UploadFile = File(..., description="JPEG, PNG, BMP, TIFF or WebP")):
        # async, with one thread-pool hop for the decoding and the model, and the JSON written here: the
        # per-request work of the framework competes with the model for the same cores (bench/serve_load.py)
        name = _safe_name(image, "image")
        data = await image.read(limits.image_bytes + 1)
        _check_size(data, limits.image_bytes, name)
        return Response(await run_in_threadpool(analyze_bytes, data, name), media_type="application/json")

    @app.post("/v1/analyze/batch", summary="Every face in up to N images (one model call for all faces)",
              dependencies=[Depends(check_key)])
    def analyze_batch(images: list[UploadFile] = File(..., description="several files in the field 'images'")):
        if len(images) > limits.batch_images:
            raise ApiError(413, "limit", f"{len(images)} images; the limit is {limits.batch_images} per request")
        results, decoded = [], []
        for i, upload in enumerate(images):
            name = _safe_name(upload, f"image {i + 1}")
            try:
                decoded.append((i, decode_image(_read_upload(upload, limits.image_bytes, name), name)))
                results.append({"name": name})
            except (DataError, ApiError) as exc:
                kind = getattr(exc, "kind", "data")
                results.append({"name": name, "error": {"kind": kind, "message": exc.message}})
        with borrow() as worker:
            faces = worker.predict_batch([img for _, img in decoded]) if decoded else []
        for (i, img), found in zip(decoded, faces):
            results[i].update(width=int(img.shape[1]), height=int(img.shape[0]), faces=[f.to_dict() for f in found])
        return {"model": fer.model_id, "results": results}

    @app.post("/v1/videos", status_code=202, summary="Analyse a video in the background; poll GET /v1/videos/{id}",
              dependencies=[Depends(check_key)])
    def submit_video(video: UploadFile = File(..., description="MP4, AVI, MOV, MKV or WebM"),
                     every_nth: int = Form(1, ge=1, le=100, description="process every n-th frame")):
        name = _safe_name(video, "video")
        if videos.active() >= limits.video_jobs:
            raise ApiError(429, "busy", f"{limits.video_jobs} videos are already waiting or running — try again later")
        path = _save_video(video, str(videos.uploads), limits.video_bytes, name)
        return videos.submit(path, name, every_nth)

    @app.get("/v1/videos/{job_id}", summary="A video job's status, progress and (when done) its rows",
             dependencies=[Depends(check_key)])
    def video_status(job_id: str):
        job = videos.get(job_id)
        if job is None:
            raise ApiError(404, "request", "no such video job (finished jobs are kept for a while, not forever)")
        return job

    app.add_middleware(BodyLimit, limits=limits)  # outermost: counts bytes before the form parser sees them
    return app


def _save_video(upload: UploadFile, folder: str, limit: int, name: str) -> str:
    """The upload as a temporary file, checked to be a video OpenCV can read (first frame) before it is queued."""
    import tempfile
    fd, path = tempfile.mkstemp(dir=folder, suffix=Path(name).suffix[:8] or ".bin")
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := upload.file.read(1 << 20):
                size += len(chunk)
                if size > limit:
                    raise ApiError(413, "limit", f"{name}: the video is over the limit of {limit / 1024**2:.0f} MB")
                out.write(chunk)
        if size == 0:
            raise ApiError(400, "data", f"{name}: the file is empty — send a video file")
        from fer_core.inference.video import open_video
        cap = open_video(path, name)  # DataError for a still image or anything FFmpeg cannot open
        ok = cap.read()[0]
        cap.release()
        if not ok:
            raise DataError("not a video OpenCV can decode", path=name, fix="send an MP4, AVI, MOV, MKV or WebM file")
    except BaseException:
        os.unlink(path)
        raise
    return path
