"""The app's pages, listed once for Home's links and the tests."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    script: str  # relative to the repo root
    title: str
    icon: str
    summary: str


PAGES = (
    Page("pages/1_Dataset.py", "Dataset", "📊",
         "Class balance per split and label scheme, sample grids, data-quality findings, FER2013 vs FERPlus."),
    Page("pages/2_Relabel.py", "Relabel", "🏷️",
         "Relabel FER2013 into the 10-class FER2024 scheme with the keyboard; several annotators, nothing lost."),
    Page("pages/3_Train.py", "Train", "🏋️",
         "Launch background training jobs (CBAM-5CNN, EfficientNetB3, VGG16, CNN baselines), follow and cancel them."),
    Page("pages/4_Compare.py", "Compare", "📈",
         "Metrics with confidence intervals, per-class F1, confusion matrices, curves, McNemar tests, ensembles."),
    Page("pages/5_Live.py", "Live", "🎥",
         "Webcam (WebRTC) inference with Grad-CAM / CBAM overlays; image and video upload fallbacks."),
)
