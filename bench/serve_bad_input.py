"""Bad input over HTTP against a real `python -m fer_core serve` process -> JSON.

python bench/serve_bad_input.py [--out bench/results/serve_bad_input.json]

200+ requests a client should not send (empty, truncated, corrupt, decompression bombs, 0x0 and 100000x1
images, wrong content types, malformed multipart, a 2 GB body cut off, non-videos as videos, bad fields,
oversized batches, unknown routes): each must get a 4xx JSON error with a message and no traceback, the server
must stay alive throughout, and its memory (RSS) must come back within 50 MB of where it started.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import select
import socket
import struct
import sys
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import cv2  # noqa: E402
import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height over one tiny compressed row: a decompression-bomb shape."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def real_bomb(side: int) -> bytes:
    from PIL import Image
    buf = io.BytesIO()
    Image.new("L", (side, side)).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def good_jpeg() -> bytes:
    rng = np.random.default_rng(0)
    return cv2.imencode(".jpg", rng.integers(0, 256, (480, 640, 3), dtype=np.uint8))[1].tobytes()


def multipart(field: str, name: str, data: bytes, ctype: str = "image/jpeg", boundary: str = "b0undary") -> tuple:
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\n"
            f"Content-Type: {ctype}\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def cases() -> list[dict]:
    jpg = good_jpeg()
    png = cv2.imencode(".png", np.full((64, 64, 3), 99, np.uint8))[1].tobytes()
    rng = np.random.default_rng(1)
    out = []

    def image(label, data, path="/v1/analyze", field="image", ctype="image/jpeg", name="x.jpg"):
        body, content_type = multipart(field, name, data, ctype)
        out.append({"case": label, "path": path, "body": body, "headers": {"content-type": content_type}})

    image("empty file", b"")
    for cut in (1, 2, 3, 4, 6, 10, 20, 50, 100, 150, 200, 300, 400, 600, 800, 1200, 1600, 3200, 6400, len(jpg) // 4,
                len(jpg) // 3, len(jpg) // 2, 2 * len(jpg) // 3, len(jpg) - 100):
        image(f"jpeg truncated to {cut} bytes", jpg[:cut])
    for cut in (8, 16, 33, 40, 60, len(png) // 2, len(png) - 13):
        image(f"png truncated to {cut} bytes", png[:cut], name="x.png")
    for n in (1, 2, 3, 7, 16, 50, 100, 500, 1000, 5000, 10_000, 100_000, 1_000_000):
        image(f"{n} random bytes", rng.integers(0, 256, n, dtype=np.uint8).tobytes())
    for n in (1, 100, 10_000):
        image(f"{n} random bytes behind a JPEG magic", b"\xff\xd8\xff\xe0" + rng.integers(0, 256, n, dtype=np.uint8).tobytes())
        image(f"{n} random bytes behind a PNG magic", b"\x89PNG\r\n\x1a\n" + rng.integers(0, 256, n, dtype=np.uint8).tobytes())
    for w, h in ((0, 0), (0, 100), (100, 0), (100_000, 1), (1, 100_000), (65_535, 65_535), (2**31 - 1, 2**31 - 1),
                 (20_000, 20_000), (7, 7), (3, 500)):
        image(f"png header {w}x{h}", png_header_only(w, h), name="x.png", ctype="image/png")
    for side in (8000, 12000, 20000):
        image(f"real {side}x{side} png bomb", real_bomb(side), name="bomb.png", ctype="image/png")
    for text in (b"hello", b"<html></html>", b"%PDF-1.4\n", b"PK\x03\x04zip", b"GIF89a\x01\x00\x01\x00", b"BM\x00\x00",
                 b"RIFF\x00\x00\x00\x00WEBPVP8 ", b"II*\x00"):
        image(f"not an image: {text[:8]!r}", text, ctype="text/plain", name="x.txt")
    image("image under the wrong field", jpg, field="file")
    image("image under an empty field name", jpg, field="")
    # wrong content types and bodies that are not multipart
    for ctype, body in (("application/json", b'{"image": "x"}'), ("text/plain", b"image"), ("image/jpeg", jpg),
                        ("application/octet-stream", jpg), ("application/x-www-form-urlencoded", b"image=abc"),
                        ("application/xml", b"<image/>"), ("", jpg), ("multipart/form-data", jpg),
                        ("multipart/form-data; boundary=", jpg), ("multipart/mixed; boundary=x", jpg)):
        out.append({"case": f"content type {ctype or '(none)'}", "path": "/v1/analyze", "body": body,
                    "headers": {"content-type": ctype} if ctype else {}})
    out.append({"case": "no body at all", "path": "/v1/analyze", "body": b"", "headers": {}})
    # malformed multipart
    good_body, good_type = multipart("image", "x.jpg", jpg)
    for label, body in (("unterminated part", good_body[:-20]), ("no closing boundary", good_body.replace(b"--b0undary--", b"")),
                        ("boundary mismatch", good_body.replace(b"b0undary", b"other", 1)),
                        ("garbage headers", b"--b0undary\r\nthis is not a header\r\n\r\nxx\r\n--b0undary--\r\n"),
                        ("no content-disposition", b"--b0undary\r\nContent-Type: image/jpeg\r\n\r\n" + jpg + b"\r\n--b0undary--\r\n"),
                        ("only a boundary", b"--b0undary--\r\n"), ("just CRLFs", b"\r\n" * 50),
                        ("nul bytes", b"\x00" * 500), ("header without end", b"--b0undary\r\nContent-Disposition: form-data; name=\"image\""),
                        ("1000 tiny fields", b"".join(f"--b0undary\r\nContent-Disposition: form-data; name=\"f{i}\"\r\n\r\nv\r\n".encode() for i in range(1000)) + b"--b0undary--\r\n"),
                        ("filename with path", good_body.replace(b'filename="x.jpg"', b'filename="../../etc/passwd"').replace(jpg, b"x")),
                        ("filename with newline", good_body.replace(b'filename="x.jpg"', b'filename="a\\nb"').replace(jpg, b"x")),
                        ("utf-8 garbage name", good_body.replace(b'filename="x.jpg"', b'filename="\xff\xfe"').replace(jpg, b"x"))):
        out.append({"case": f"multipart: {label}", "path": "/v1/analyze", "body": body, "headers": {"content-type": good_type}})
    # size limits
    out.append({"case": "2 GB body declared, 8 MB sent, cut off", "path": "/v1/analyze", "stream": 8 * 1024**2,
                "headers": {"content-type": good_type, "content-length": str(2 * 1024**3)}})
    out.append({"case": "2 GB video body declared, cut off", "path": "/v1/videos", "stream": 8 * 1024**2,
                "headers": {"content-type": good_type, "content-length": str(2 * 1024**3)}})
    out.append({"case": "60 MB image body, no content-length (chunked)", "path": "/v1/analyze", "chunked": 60 * 1024**2,
                "headers": {"content-type": good_type}})
    out.append({"case": "content-length not a number", "path": "/v1/analyze", "body": good_body,
                "headers": {"content-type": good_type, "content-length": "lots"}, "raw_length": True})
    big, big_type = multipart("image", "big.jpg", b"\xff\xd8" + os.urandom(51 * 1024**2))
    out.append({"case": "51 MB image", "path": "/v1/analyze", "body": big, "headers": {"content-type": big_type}})
    # videos
    for label, data in (("jpeg as video", jpg), ("png as video", png), ("random bytes as video", os.urandom(20_000)),
                        ("text as video", b"just text" * 100), ("empty video", b""), ("mp4 header only", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100),
                        ("avi header only", b"RIFF\x00\x10\x00\x00AVI LIST" + b"\x00" * 100), ("pdf as video", b"%PDF-1.4\n" * 50),
                        ("zip as video", b"PK\x03\x04" + os.urandom(1000)), ("truncated webm", b"\x1a\x45\xdf\xa3" + os.urandom(300))):
        body, ctype = multipart("video", "v.mp4", data, "video/mp4")
        out.append({"case": f"video: {label}", "path": "/v1/videos", "body": body, "headers": {"content-type": ctype}})
    for value in ("0", "-1", "abc", "1e9", "", "101"):
        vbody = (f"--b0undary\r\nContent-Disposition: form-data; name=\"every_nth\"\r\n\r\n{value}\r\n").encode() + \
            multipart("video", "v.mp4", b"x" * 100, "video/mp4")[0]
        out.append({"case": f"video every_nth={value!r}", "path": "/v1/videos", "body": vbody, "headers": {"content-type": good_type}})
    # batches
    parts = b"".join(multipart("images", f"{i}.jpg", b"bad")[0].rsplit(b"--b0undary--", 1)[0] for i in range(40)) + b"--b0undary--\r\n"
    out.append({"case": "batch of 40 (limit 32)", "path": "/v1/analyze/batch", "body": parts, "headers": {"content-type": good_type}})
    out.append({"case": "batch without images", "path": "/v1/analyze/batch", "body": b"--b0undary--\r\n", "headers": {"content-type": good_type}})
    out.append({"case": "batch with a text field", "path": "/v1/analyze/batch",
                "body": b"--b0undary\r\nContent-Disposition: form-data; name=\"images\"\r\n\r\nnot a file\r\n--b0undary--\r\n",
                "headers": {"content-type": good_type}})
    # routes and methods
    for method, path in (("GET", "/v1/analyze"), ("PUT", "/v1/analyze"), ("DELETE", "/v1/videos/x"), ("GET", "/v1/videos/nope"),
                         ("GET", "/v1/videos/..%2F..%2Fetc%2Fpasswd"), ("GET", "/v1/videos/" + "a" * 5000), ("GET", "/v2/analyze"),
                         ("POST", "/healthz"), ("GET", "/etc/passwd"), ("GET", "/v1/videos/%00")):
        out.append({"case": f"{method} {path[:40]}", "method": method, "path": path, "body": b"", "headers": {}})
    # every image case again against the batch endpoint (one bad file in a batch is a per-file error: 200)
    n = len(out)
    for c in list(out[:n]):
        if c["path"] == "/v1/analyze" and c.get("body", b"").startswith(b"--b0undary\r\nContent-Disposition: form-data; name=\"image\";"):
            out.append({**c, "case": "batch endpoint, field image: " + c["case"], "path": "/v1/analyze/batch"})
    return out


def send(port: int, case: dict, timeout: float = 60) -> tuple[int | None, bytes]:
    """Raw HTTP/1.1 over a socket: lets a case declare a 2 GB body and stop sending, or send malformed bodies."""
    method = case.get("method", "POST")
    headers = dict(case.get("headers") or {})
    if "body" in case and "content-length" not in headers and not case.get("raw_length"):
        headers["content-length"] = str(len(case["body"]))
    if "chunked" in case:
        headers["transfer-encoding"] = "chunked"
    head = f"{method} {case['path']} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + \
        "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(head.encode())
        def answered() -> bool:  # as a real client does: stop sending once the server has answered
            return bool(select.select([s], [], [], 0)[0])
        try:
            if "stream" in case:
                block = os.urandom(1 << 20)
                for _ in range(case["stream"] >> 20):
                    if answered():
                        break
                    s.sendall(block)
            elif "chunked" in case:
                block = os.urandom(1 << 20)
                for _ in range(case["chunked"] >> 20):
                    if answered():
                        break
                    s.sendall(f"{len(block):x}\r\n".encode() + block + b"\r\n")
                else:
                    s.sendall(b"0\r\n\r\n")
            else:
                body = case["body"]
                for start in range(0, max(len(body), 1), 1 << 20):
                    if start and answered():
                        break
                    s.sendall(body[start:start + (1 << 20)])
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before taking the whole body: read its answer
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    if not data.startswith(b"HTTP/1.1 "):
        return None, data
    return int(data[9:12]), data.split(b"\r\n\r\n", 1)[-1]


def tree(pid: int) -> list[int]:
    """The server process and its descendants (uvicorn's worker processes, their resource tracker)."""
    out = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            out += tree(int(child))
    return out


def rss_mb(pid: int) -> float:
    """Resident memory of the whole server: every process of it."""
    total = 0
    for p in tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "serve_bad_input.json"))
    args = parser.parse_args()
    all_cases = cases()
    from fer_core.server.local import local_server
    results, failures = [], []
    with local_server(cwd=REPO, wait_s=240) as (server, port):
        import httpx
        body, ctype = multipart("image", "ok.jpg", good_jpeg())
        for _ in range(20):  # warm-up: what a normal request allocates is not a leak
            send(port, {"path": "/v1/analyze", "body": body, "headers": {"content-type": ctype}})
        start_mb = rss_mb(server.pid)
        peak_mb = start_mb
        for i, case in enumerate(all_cases):
            t = time.perf_counter()
            status, payload = send(port, case)
            ms = 1000 * (time.perf_counter() - t)
            try:
                err = json.loads(payload)["error"]
                ok_json = bool(err.get("message")) and bool(err.get("kind"))
            except (ValueError, KeyError, TypeError):
                err, ok_json = None, False
            if case["path"] == "/v1/analyze/batch" and status == 200:  # per-file errors inside a 200
                try:
                    items = json.loads(payload)["results"]
                    ok_json = all("error" in r for r in items) and bool(items)
                    err = items[0]["error"] if items else None
                except (ValueError, KeyError, TypeError):
                    ok_json = False
                good = ok_json
            else:
                good = status is not None and 400 <= status < 500 and ok_json
            good = good and b"Traceback" not in payload and b"File \"/" not in payload
            alive = server.poll() is None
            peak_mb = max(peak_mb, rss_mb(server.pid)) if alive else peak_mb
            row = {"case": case["case"], "path": case["path"], "status": status, "ok": good, "ms": round(ms, 1),
                   "message": (err or {}).get("message", "")[:160] if isinstance(err, dict) else None}
            results.append(row)
            if not good or not alive:
                failures.append(row)
            if not alive:
                break
            if i % 25 == 0:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code
                if health != 200:
                    failures.append({"case": "healthz after " + case["case"], "status": health})
        time.sleep(2)  # let the video worker finish anything queued, and the allocator settle
        end_mb = rss_mb(server.pid)
        alive = server.poll() is None and httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
    report = {"cases": len(results), "ok": sum(r["ok"] for r in results), "failures": failures,
              "server_alive_throughout": alive and not any(r.get("status") is None for r in failures),
              "rss_mb": {"start": round(start_mb, 1), "peak": round(peak_mb, 1), "end": round(end_mb, 1),
                         "growth": round(end_mb - start_mb, 1)},
              "statuses": {str(s): sum(r["status"] == s for r in results) for s in sorted({r["status"] or 0 for r in results})},
              "targets": {"cases": ">= 200, every one a 4xx JSON error (per-file errors in a batch's 200)",
                          "memory": "back within 50 MB of the start"},
              "results": results}
    report["targets"]["met"] = (report["cases"] >= 200 and not failures and report["server_alive_throughout"]
                                and report["rss_mb"]["growth"] <= 50)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "results"}, indent=2))


if __name__ == "__main__":
    main()
