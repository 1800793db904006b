"""The face detectors by name, importable without OpenCV (the CLI's parser lists them on GPU hosts too)."""
DETECTORS = ("blazeface-cascade", "blazeface-multiscale", "blazeface", "blazeface-full", "blazeface-multi", "haar")  # the first is the
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
    # MediaPipe's square, and the frame at 0.5x with a low threshold (0.3 by default) that finds faces from ~48 px
    # and some face-like things; those under 0.7 get a second look (CHECKED). ~93k network pixels a 640x480 frame.
    # The square, not a 128 long side without its padding rows (3/4 of its work, same faces in frames): it enlarges
    # images under 128 px, where the unenlarged pass found 87% of 48 px FER2013/CK+ photos' faces instead of 100%.
    "blazeface-cascade": (("short", None, 0.0), ("short", 320, -0.2)),
}
# Detections of a pass (named by its long side) that score below threshold + sure are looked at again, in a
# square around each at the network's best scale (fer_core/live/squares.py), and kept if the face found there scores
# threshold + extra. Chosen on group scenes of seeds 21 and 22 (not the bench's): recall >= 48 px 96.4% / 96.6%,
# >= 100 px 98.7% / 98.9%, 0.002 false positives per image, ~1.1 second looks per image. A second look at +0.0
# finds 0.5 point more and 3-4x the false positives; accepting from 0.6 needs fewer looks but lets more through.
CHECKED = {"blazeface-cascade": {"long_side": 320, "sure": 0.2, "extra": 0.1}}
RENAMED = {"blazeface-tiles": "blazeface-multiscale"}  # the default until 2026-12 (256-px tiles: slower, fewer small faces)


def canonical(name: str) -> str:
    """Today's name of a detector: settings, scripts and servers may still name one by an old name."""
    return RENAMED.get(name, name)
