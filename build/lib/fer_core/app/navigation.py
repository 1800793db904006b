"""The app's pages, listed once: the entry point's st.navigation, Home's links and the tests use this list."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    script: str  # relative to the repo root
    title: str
    icon: str
    summary: str
    url_path: str


HOME = Page("app_pages/0_Overview.py", "Home", "🙂", "The loaded dataset, saved runs and the default model's card.", "overview")
PAGES = (
    Page("app_pages/1_Dataset.py", "Dataset", "📊",
         "Class balance per split and label scheme, sample grids, data-quality findings, FER2013 vs FERPlus.",
         "Dataset"),
    Page("app_pages/2_Relabel.py", "Relabel", "🏷️",
         "Relabel FER2013 into the 10-class FER2024 scheme with the keyboard; several annotators, nothing lost.",
         "Relabel"),
    Page("app_pages/3_Train.py", "Train", "🏋️",
         "Launch background training jobs, follow, cancel and resume them.", "Train"),
    Page("app_pages/4_Compare.py", "Compare", "📈",
         "Metrics with confidence intervals, per-class F1, confusion matrices, curves, McNemar tests, ensembles.",
         "Compare"),
    Page("app_pages/5_Live.py", "Live", "🎥",
         "Webcam (WebRTC) inference with Grad-CAM / CBAM overlays; image and video upload fallbacks.", "Live"),
)


def streamlit_pages() -> list:
    """st.Page objects for st.navigation (Home first, as the default page)."""
    import streamlit as st
    return [st.Page(p.script, title=p.title, icon=p.icon, url_path=p.url_path, default=p is HOME)
            for p in (HOME, *PAGES)]
