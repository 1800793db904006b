"""The face detectors by name, importable without OpenCV (the CLI's parser lists them on GPU hosts too)."""
DETECTORS = ("blazeface-multiscale", "blazeface", "blazeface-full", "blazeface-multi", "haar")  # the first is the
# default: bench/results/detect.json. The BlazeFace passes each name runs, merged when several:
# (network, long side of its input or None for the network's own square, extra score asked of that pass).
BLAZE_PASSES = {
    "blazeface": (("short", None, 0.0),),
    "blazeface-full": (("full", None, 0.0),),
    "blazeface-multi": (("short", None, 0.0), ("full", None, 0.0)),
    # the frame at 0.2x (MediaPipe's square: faces from ~100 px), at a long side of 256 (0.4x of 640: big faces
    # the square misses) and of 448 (0.7x: a 48 px face is 34 px to the network). The finest pass sees most
    # face-like patterns (petals, carvings), so it asks more score: the most recall with <= 0.007 false positives
    # per image on six seeds of group scenes (not the bench's): +0.15 97.0% / 0.0078, +0.175 96.6% / 0.0067,
    # +0.2 96.0% / 0.0056.
    "blazeface-multiscale": (("short", None, 0.0), ("short", 256, 0.0), ("short", 448, 0.175)),
}
RENAMED = {"blazeface-tiles": "blazeface-multiscale"}  # the default until 2026-12 (256-px tiles: slower, fewer small faces)


def canonical(name: str) -> str:
    """Today's name of a detector: settings, scripts and servers may still name one by an old name."""
    return RENAMED.get(name, name)
