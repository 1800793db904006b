"""Command line: `python -m fer_core data info PATH`, `python -m fer_core data check PATH`."""
from __future__ import annotations

import argparse
import json
import sys

from .errors import DataError


def _data_info(args) -> dict:
    from .loading import load_dataset
    from .report import dataset_facts
    ds = load_dataset(args.path)
    if args.scheme:
        ds = ds.in_scheme(args.scheme)
    return dataset_facts(ds)


def _data_check(args) -> dict:
    from .loading import load_dataset
    from .quality import analyse
    from .report import quality_facts
    ds = load_dataset(args.path)
    return {"name": ds.name, "version": ds.version, **quality_facts(analyse(ds), ds)}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m fer_core", description="FER Studio command line")
    sub = parser.add_subparsers(dest="group", required=True)
    data = sub.add_parser("data", help="inspect a dataset").add_subparsers(dest="command", required=True)
    info = data.add_parser("info", help="rows, splits, class counts and weights, data version")
    info.add_argument("path", help="FER2013 CSV (.csv/.csv.gz), CK+ CSV, image folder, or 'demo'")
    info.add_argument("--scheme", help="map labels into this scheme first (e.g. fer2024)")
    info.add_argument("--json", action="store_true", help="print JSON instead of text")
    info.set_defaults(func=_data_info)
    check = data.add_parser("check", help="duplicates, train/test leaks, blank images, FERPlus disagreement")
    check.add_argument("path")
    check.add_argument("--json", action="store_true")
    check.set_defaults(func=_data_check)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        facts = args.func(args)
    except DataError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(facts, indent=2, default=str))
    else:
        from .report import format_facts
        print(format_facts(facts))
    return 0
