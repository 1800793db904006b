"""'Use this model outside the app': export a run (ONNX, TFLite, SavedModel) and download it, with the lines that
use it. The same export_run as `python -m fer_core export`."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import streamlit as st

from fer_core.app.ui import show_error
from fer_core.errors import FerStudioError

FORMATS = {"ONNX (.onnx)": "onnx", "TFLite (.tflite)": "tflite", "TensorFlow SavedModel (.zip)": "savedmodel"}


def _zip_folder(folder: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                zf.write(p, p.relative_to(folder.parent))
    return buf.getvalue()


def export_panel(run, key: str = "export") -> None:
    st.markdown("**Use this model outside the app**")
    c1, c2, c3 = st.columns([2, 1, 1])
    label = c1.selectbox("Format", list(FORMATS), key=f"{key}_format", label_visibility="collapsed")
    fmt = FORMATS[label]
    fp16 = c2.checkbox("fp16", key=f"{key}_fp16", disabled=fmt == "savedmodel",
                       help="float16 weights: half the size; probabilities within 0.005 of float32")
    if c3.button("Export", key=f"{key}_go"):
        from fer_core.inference.export import export_run
        try:
            with st.spinner(f"Exporting to {fmt}…"):
                st.session_state[f"{key}_done"] = (run.id, str(export_run(run, fmt, fp16=fp16 and fmt != "savedmodel")))
        except FerStudioError as exc:
            show_error(exc)
    done = st.session_state.get(f"{key}_done")
    if done and done[0] == run.id and Path(done[1]).exists():
        path = Path(done[1])
        data = _zip_folder(path) if path.is_dir() else path.read_bytes()
        name = f"{run.id}-{path.name}" + (".zip" if path.is_dir() else "")
        st.download_button(f"Download {name} ({len(data) / 2**20:.1f} MB)", data, file_name=name, key=f"{key}_dl")
        if path.is_file():
            meta = path.with_name(path.name + ".json")
            if meta.exists():
                st.download_button("Download its metadata (.json: class names, input)", meta.read_bytes(),
                                   file_name=f"{name}.json", key=f"{key}_meta")
        st.code(f'from fer_core import FER\nfer = FER("{name}")  # keep the .json beside a .tflite file\n'
                'faces = fer.detect_emotions("photo.jpg")', language="python")
    st.caption("Or from a terminal: `python -m fer_core export RUN --format onnx`, `python -m fer_core predict "
               "PHOTOS/`, `python -m fer_core serve` (README: \"Use it outside the app\").")
