"""The two colour conversions every Live frame pays (the browser's I420 in, I420 out to the encoder): PyAV's
swscale against OpenCV (fer_core.live.frames for the way out), timed in turns -> bench/results/live_frames.json.

python bench/live_frames.py [--frames 90] [--rounds 5] [--size 640x480]

Frames: a real photo (scikit-learn's samples) panning, VP8-encoded and decoded as aiortc does, so the input is a
decoder's yuv420p frame. "out" includes aiortc's VP8 encode of the returned frame (it reformats a bgr24 frame to
yuv420p itself), so the ratio there is of the whole return path.
"""
from __future__ import annotations

import argparse
import fractions
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import cv2  # noqa: E402
import numpy as np  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "live_frames.json"


def decoded_frames(n: int, width: int, height: int) -> list:
    import av
    from sklearn.datasets import load_sample_images
    photo = cv2.cvtColor(load_sample_images().images[0], cv2.COLOR_RGB2BGR)
    photo = cv2.resize(photo, (width + 120, height + 40))
    enc = av.CodecContext.create("libvpx", "w")
    enc.width, enc.height, enc.pix_fmt = width, height, "yuv420p"
    enc.options = {"deadline": "realtime", "cpu-used": "-6"}
    dec = av.CodecContext.create("libvpx", "r")
    out = []
    for i in range(n):
        y, x = 20 + int(15 * np.sin(i / 5)), i % 120
        img = np.ascontiguousarray(photo[y:y + height, x:x + width])
        frame = av.VideoFrame.from_ndarray(img, format="bgr24").reformat(format="yuv420p")
        frame.pts, frame.time_base = i * 3000, fractions.Fraction(1, 90000)
        for packet in enc.encode(frame):
            out += list(dec.decode(packet))
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=90)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--size", default="640x480")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()
    import av
    from aiortc.codecs.vpx import Vp8Encoder

    from fer_core.live.frames import from_bgr
    width, height = (int(v) for v in args.size.split("x"))
    frames = decoded_frames(args.frames, width, height)
    ways = {
        "pyav": (lambda f: f.to_ndarray(format="bgr24"), lambda img: av.VideoFrame.from_ndarray(img, format="bgr24")),
        "opencv": (lambda f: cv2.cvtColor(f.to_ndarray(), cv2.COLOR_YUV2BGR_I420), from_bgr)}
    ms = {w: {"in": [], "out": []} for w in ways}
    for r in range(args.rounds):
        for way in (list(ways) if r % 2 == 0 else list(ways)[::-1]):  # in turns: machine drift hits both
            read, write = ways[way]
            encoder = Vp8Encoder()
            for i, f in enumerate(frames):
                t0 = time.perf_counter()
                img = read(f)
                t1 = time.perf_counter()
                out = write(img)
                out.pts, out.time_base = f.pts, f.time_base
                encoder.encode(out)
                t2 = time.perf_counter()
                if i:  # the first frame sets the encoder up
                    ms[way]["in"].append(1000 * (t1 - t0))
                    ms[way]["out"].append(1000 * (t2 - t1))
    result = {"frames": len(frames), "rounds": args.rounds, "size": args.size,
              "what": "in: decoded yuv420p frame -> BGR array; out: BGR array -> frame -> aiortc VP8 encode"}
    for way, m in ms.items():
        result[way] = {k: {"median_ms": round(float(np.median(v)), 3), "mean_ms": round(float(np.mean(v)), 3)}
                       for k, v in m.items()}
    result["ratio_opencv_to_pyav"] = {k: round(result["opencv"][k]["median_ms"] / result["pyav"][k]["median_ms"], 3)
                                      for k in ("in", "out")}
    result["saved_ms_per_frame_median"] = round(sum(result["pyav"][k]["median_ms"] - result["opencv"][k]["median_ms"]
                                                    for k in ("in", "out")), 2)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
