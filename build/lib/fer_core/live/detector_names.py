"""The face detectors by name, importable without OpenCV (the CLI's parser lists them on GPU hosts too)."""
DETECTORS = ("blazeface-tiles", "blazeface", "blazeface-full", "blazeface-multi", "haar")  # the first is the
# default: bench/results/detect.json. Which BlazeFace networks each name runs; several are merged by NMS.
BLAZE_VARIANTS = {"blazeface": ("short",), "blazeface-full": ("full",), "blazeface-multi": ("short", "full"),
                  "blazeface-tiles": ("short",)}
