"""`python -m fer_core predict | export | serve`: the one inference path (`FER`) from the command line."""
from __future__ import annotations

import sys

from fer_core.errors import ConfigError


def _fer_from(args):
    from fer_core.api import FER
    detector = None if args.detector == "none" else args.detector
    return FER(args.model, detector=detector, backend=args.backend)


def _predict(args):
    from fer_core.inference.predict_files import Summary, collect, predict_files
    summary = Summary()
    files = collect(args.paths, summary)  # stat only: refused paths are reported before the model loads
    if files:
        fer = _fer_from(args)
        out = open(args.out, "w", newline="") if args.out else None  # noqa: SIM115 - closed below
        try:
            predict_files(fer, files, summary, out, args.format, args.annotate, args.every_nth, args.max_seconds,
                          progress=False if args.no_progress else None)
        finally:
            if out:
                out.close()
    facts = summary.to_dict()
    print("summary: " + ", ".join(f"{k} {v}" for k, v in facts.items() if v not in (None, 0) or k == "faces"),
          file=sys.stderr)
    if summary.images + summary.videos == 0:
        raise ConfigError("nothing could be read" + (f" ({len(summary.errors)} file(s) failed)" if summary.errors else
                                                      " (no image or video files found)"),
                          fix="name image files (JPEG, PNG, ...), videos (MP4, AVI, ...) or folders holding them")
    if summary.no_face and args.detector != "none":
        print(f"note: {summary.no_face} image(s) had no face found; if they are face crops, use --detector none",
              file=sys.stderr)
    return None


def _export(args) -> dict:
    from fer_core.api import resolve_model
    from fer_core.inference.export import export_run
    from fer_core.runs.run import Run
    run = resolve_model(args.run)
    if not isinstance(run, Run):
        raise ConfigError("export takes a run folder or name", path=str(args.run), fix="name the run, not an exported file")
    path = export_run(run, args.format, out=args.out, fp16=args.fp16)
    return {"exported": str(path), "format": args.format, "fp16": args.fp16, "run": run.id,
            "metadata": str(path) + ".json" if args.format != "savedmodel" else str(path / "assets" / "fer_studio.json")}


def _serve(args):
    from fer_core.server.run import serve
    serve(model=args.model, host=args.host, port=args.port, detector=None if args.detector == "none" else args.detector,
          backend=args.backend, processes=args.processes)
    return None


def _add_model_options(p) -> None:
    from fer_core.live.detector_names import DETECTORS  # names only: the CLI parses without OpenCV (GPU hosts)
    p.add_argument("--model", help="run folder or name, or an exported .onnx/.tflite file (default: the default model)")
    p.add_argument("--detector", default=DETECTORS[0], choices=[*DETECTORS, "none"],
                   help="face detector; 'none' when the inputs are face crops (classified whole)")
    p.add_argument("--backend", default="auto", choices=["auto", "onnx", "keras", "tflite"],
                   help="auto: ONNX Runtime when installed (faster on CPU), else Keras")


def add_inference_commands(sub) -> None:
    pred = sub.add_parser("predict", help="emotions of every face in images, folders (recursively) and videos")
    pred.add_argument("paths", nargs="+", metavar="PATH")
    _add_model_options(pred)
    pred.add_argument("--format", default="csv", choices=["csv", "jsonl"], help="rows out (default csv)")
    pred.add_argument("--out", help="write rows to this file (default: stdout)")
    pred.add_argument("--annotate", metavar="DIR", help="write boxed images / annotated videos (MP4) here")
    pred.add_argument("--every-nth", type=int, default=1, help="videos: process every n-th frame (default 1)")
    pred.add_argument("--max-seconds", type=float, help="videos: analyse at most this many seconds of each")
    pred.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    pred.set_defaults(func=_predict, json=False, checks_own_paths=("paths",))  # one bad file never stops the rest
    export = sub.add_parser("export", help="a run's model as ONNX, TFLite or SavedModel (class names in metadata)")
    export.add_argument("run", help="run folder or name")
    export.add_argument("--format", required=True, choices=["onnx", "tflite", "savedmodel"])
    export.add_argument("--fp16", action="store_true", help="float16 weights (onnx, tflite): half the size")
    export.add_argument("--out", help="output path (default: <run>/exports/model[-fp16].<ext>)")
    export.add_argument("--json", action="store_true")
    export.set_defaults(func=_export)
    serve = sub.add_parser("serve", help="REST server (FastAPI): /v1/analyze, /v1/analyze/batch, /v1/videos, /docs")
    _add_model_options(serve)
    serve.add_argument("--host", default=None, help="address to listen on (default 127.0.0.1, or FER_SERVER_HOST)")
    serve.add_argument("--port", type=int, default=None, help="port (default 8000, or FER_SERVER_PORT)")
    serve.add_argument("--processes", type=int, default=None,
                       help="server processes sharing the port (default: one per core, or FER_SERVER_PROCESSES)")
    serve.set_defaults(func=_serve, json=False)
