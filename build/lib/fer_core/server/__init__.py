"""The REST server: `python -m fer_core serve` (FastAPI + uvicorn), the same `FER` path as the app and the CLI."""
