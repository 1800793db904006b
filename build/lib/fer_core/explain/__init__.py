"""Explanations for one face: Grad-CAM, Grad-CAM++ and CBAM attention maps."""
