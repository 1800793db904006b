"""Small image helpers for display."""
from __future__ import annotations

import cv2
import numpy as np


def upscale(img: np.ndarray, size: int = 144) -> np.ndarray:
    """Crisp (nearest-neighbour) enlargement, so 48x48 pixels stay visible as pixels."""
    return cv2.resize(img, (size, size), interpolation=cv2.INTER_NEAREST)


def image_strip_html(images, captions, px: int = 96) -> str:
    """Faces with captions as one HTML block (PNG data URIs at their own size, scaled by the browser): one message
    instead of an image request per face, for views that answer while the user types."""
    import base64
    import html
    tiles = []
    for img, cap in zip(images, captions):
        ok, buf = cv2.imencode(".png", img)
        src = base64.b64encode(buf.tobytes()).decode("ascii") if ok else ""
        tiles.append(f'<figure style="margin:0;width:{px}px"><img src="data:image/png;base64,{src}" width="{px}" '
                     f'height="{px}" alt=""><figcaption style="font-size:11px;opacity:.75;overflow:hidden;'
                     f'white-space:nowrap;text-overflow:ellipsis">{html.escape(str(cap))}</figcaption></figure>')
    return f'<div style="display:flex;flex-wrap:wrap;gap:6px">{"".join(tiles)}</div>'
