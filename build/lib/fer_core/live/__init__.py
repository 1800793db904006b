"""Live inference: detection, classification, tracking/smoothing, explanations and drawing (no Streamlit)."""
