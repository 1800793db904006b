"""uvicorn's HTTP/1.1 protocols with their one plain-text answer (400 for a request they cannot parse: a bad
Content-Length, a broken request line) in the server's JSON error shape, so every error a client sees is JSON.
httptools (C) is used when installed, as uvicorn itself would; h11 otherwise. Named by import string, so the
server's worker processes can load them."""
from __future__ import annotations

import importlib.util
import json

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol


def _body(msg: str) -> bytes:
    return json.dumps({"error": {"kind": "request", "message": f"malformed HTTP request ({msg.rstrip('.')})"}}).encode()


class JsonErrorsH11(H11Protocol):
    def send_400_response(self, msg: str) -> None:
        headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
        self.transport.write(self.conn.send(h11.Response(status_code=400, headers=headers, reason=b"Bad Request")))
        self.transport.write(self.conn.send(h11.Data(data=_body(msg))))
        self.transport.write(self.conn.send(h11.EndOfMessage()))
        self.transport.close()


if importlib.util.find_spec("httptools") is not None:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class JsonErrorsHttpTools(HttpToolsProtocol):
        def send_400_response(self, msg: str) -> None:
            body = _body(msg)
            self.transport.write(b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: "
                                 + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n" + body)
            self.transport.close()


def protocol_path() -> str:
    name = "JsonErrorsHttpTools" if "JsonErrorsHttpTools" in globals() else "JsonErrorsH11"
    return f"fer_core.server.protocol:{name}"
