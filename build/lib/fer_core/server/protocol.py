"""uvicorn's HTTP/1.1 protocols with their one plain-text answer (400 for a request they cannot parse: a bad
Content-Length, a broken request line) in the server's JSON error shape, so every error a client sees is JSON.
httptools (C) is used when installed, as uvicorn itself would; h11 otherwise. Named by import string, so the
server's worker processes can load them."""
from __future__ import annotations

import importlib.util
import json
import socket

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol


def _body(msg: str) -> bytes:
    return json.dumps({"error": {"kind": "request", "message": f"malformed HTTP request ({msg.rstrip('.')})"}}).encode()


def _nodelay(transport) -> None:
    """TCP_NODELAY on every connection. asyncio sets it only on sockets it created itself; uvicorn's worker
    processes accept on a socket the parent made (proto 0), so without this a keep-alive client waits ~40 ms per
    request for the delayed ACK (measured: 48 ms instead of 5 ms per request)."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class JsonErrorsH11(H11Protocol):
    def connection_made(self, transport) -> None:
        _nodelay(transport)
        super().connection_made(transport)

    def send_400_response(self, msg: str) -> None:
        headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
        self.transport.write(self.conn.send(h11.Response(status_code=400, headers=headers, reason=b"Bad Request")))
        self.transport.write(self.conn.send(h11.Data(data=_body(msg))))
        self.transport.write(self.conn.send(h11.EndOfMessage()))
        self.transport.close()


if importlib.util.find_spec("httptools") is not None:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class JsonErrorsHttpTools(HttpToolsProtocol):
        def connection_made(self, transport) -> None:
            _nodelay(transport)
            super().connection_made(transport)

        def send_400_response(self, msg: str) -> None:
            body = _body(msg)
            self.transport.write(b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: "
                                 + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n" + body)
            self.transport.close()


def protocol_path() -> str:
    name = "JsonErrorsHttpTools" if "JsonErrorsHttpTools" in globals() else "JsonErrorsH11"
    return f"fer_core.server.protocol:{name}"
