"""`python -m fer_core data info | layouts | check | pack`: a dataset's facts, quality and compact copies."""
from __future__ import annotations

import sys
from contextlib import nullcontext


def terminal_progress(stream=None):
    """A first load's progress on the terminal (stderr, so --json output stays clean); nothing when stderr is not a
    terminal (a pipe, a log file, CI)."""
    from fer_core.data.load_progress import reporting
    stream = stream or sys.stderr
    if stream is not sys.stderr or stream.isatty():
        return reporting(lambda f, what: stream.write(f"\r{what}: {f:.0%}" + ("\n" if f >= 1 else "")))
    return nullcontext()


def _load(path):
    from fer_core.data.loading import load_dataset
    with terminal_progress():
        return load_dataset(path)


def _data_info(args) -> dict:
    from fer_core.data.report import dataset_facts
    ds = _load(args.path)
    if args.scheme:
        ds = ds.in_scheme(args.scheme)
    return dataset_facts(ds)


def _data_layouts(args) -> dict:
    from fer_core.data.layouts import layouts_table
    return {"layouts": [{k: r[k] for k in ("layout", "dataset", "where")} for r in layouts_table()],
            "also": "FER2013 CSV, CK+48 CSV, class folders (<root>/<split>/<class>/*.jpg), .ferpack.npz packs",
            "scheme_file": "fer_core/data/schemes.json (each layout's classes and their mapping to FER2013 / FER2024)"}


def _data_check(args) -> dict:
    from fer_core.data.quality import analyse
    from fer_core.data.report import quality_facts
    ds = _load(args.path)
    return {"name": ds.name, "version": ds.version, **quality_facts(analyse(ds), ds)}


def _data_pack(args) -> dict:
    from fer_core.data.pack import write_pack
    splits = [s for s in (args.splits or "").split(",") if s] or None
    return {"pack": args.out, **write_pack(_load(args.path), args.out, quality=args.quality, splits=splits)}


def add_data_commands(sub) -> None:
    data = sub.add_parser("data", help="inspect a dataset").add_subparsers(dest="command", required=True)
    info = data.add_parser("info", help="rows, splits, class counts and weights, data version")
    info.add_argument("path", help="FER2013 CSV (.csv/.csv.gz), CK+ CSV, image folder, RAF-DB / AffectNet / JAFFE / "
                      "ExpW as distributed (see `data layouts`), or 'demo'")
    info.add_argument("--scheme", help="map labels into this scheme first (e.g. fer2024)")
    info.add_argument("--json", action="store_true", help="print JSON instead of text")
    info.set_defaults(func=_data_info)
    layouts = data.add_parser("layouts", help="the dataset layouts read as distributed, and where to get them")
    layouts.add_argument("--json", action="store_true")
    layouts.set_defaults(func=_data_layouts)
    check = data.add_parser("check", help="duplicates, train/test leaks, blank images, FERPlus disagreement")
    check.add_argument("path")
    check.add_argument("--json", action="store_true")
    check.set_defaults(func=_data_check)
    pack = data.add_parser("pack", help="compact lossy copy (WebP per image, .ferpack.npz) to carry to a GPU host")
    pack.add_argument("path")
    pack.add_argument("out", help="output file, ending in .ferpack.npz")
    pack.add_argument("--quality", type=int, default=95, help="WebP quality (default 95: ~1 grey level mean error)")
    pack.add_argument("--splits", default="Training,PublicTest",
                      help="comma-separated splits to keep (default leaves the final test split behind)")
    pack.add_argument("--json", action="store_true")
    pack.set_defaults(func=_data_pack)
