"""Real parts for tests: an HTTP server on 127.0.0.1 (port 0) that serves fixture feeds and
misbehaves on request, a real SMTP server (aiosmtpd on a reserved free port), real SQLite files."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).parent.parent


@dataclass
class Route:
    """What the server answers on one path. ``handler`` (if set) takes over completely."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    conditional: bool = True  # answer 304 to a matching If-None-Match / If-Modified-Since
    last_modified: str = "Sat, 28 Nov 2026 08:00:00 GMT"
    handler: Callable[[BaseHTTPRequestHandler], None] | None = None


class FeedServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.log: list[tuple[str, int, dict[str, str]]] = []  # path, status, request headers
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms wait for a delayed ACK

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?")[0]
                route = server.routes.get(path)
                if route is None:
                    return self._send(404, b"not found", {})
                if route.handler is not None:
                    with server.lock:
                        server.log.append((path, -1, dict(self.headers)))
                    return route.handler(self)
                etag = '"' + hashlib.sha1(route.body).hexdigest()[:16] + '"'
                headers = {"ETag": etag, "Last-Modified": route.last_modified, **route.headers}
                if (
                    route.conditional
                    and route.status == 200
                    and (
                        self.headers.get("If-None-Match") == etag
                        or (
                            self.headers.get("If-Modified-Since") == route.last_modified
                            and not self.headers.get("If-None-Match")
                        )
                    )
                ):
                    return self._send(304, b"", {"ETag": etag})
                self._send(route.status, route.body, headers)

            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                with server.lock:
                    server.log.append((self.path.split("?")[0], status, dict(self.headers)))
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                if "Content-Type" not in headers and status == 200:
                    self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body:
                    self.wfile.write(body)

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # clients hang up on purpose (body caps, timeouts)

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def serve(self, path: str, body: bytes | str = b"", **kw: Any) -> str:
        self.routes[path] = Route(body=body.encode() if isinstance(body, str) else body, **kw)
        return self.url(path)

    def statuses(self, path: str) -> list[int]:
        with self.lock:
            return [s for p, s, _ in self.log if p == path]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer()
    yield server
    server.close()


def free_port() -> int:
    """Reserve a free port (aiosmtpd's port=0 does not work)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SmtpSink:
    """aiosmtpd handler: keeps messages; ``fail_next`` answers the DATA command with a code."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message, bytes]] = []
        self.fail_next: list[str] = []  # e.g. ["451 4.3.0 try later"], consumed one per message
        self.refuse: dict[str, str] = {}  # recipient -> the reply refusing it at RCPT TO
        self.refuse_sender: str | None = None  # the reply refusing every sender at MAIL FROM
        self.max_recipients: int | None = None  # recipients one transaction takes; the next ones get a 452
        self.data_delay = 0.0  # seconds the server takes over each message (a slow relay)
        self.in_data = threading.Event()  # set when a message is being received

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
        if self.refuse_sender:
            return self.refuse_sender
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
        if address in self.refuse:
            return self.refuse[address]
        if self.max_recipients is not None and len(envelope.rcpt_tos) >= self.max_recipients:
            return "452 4.5.3 Too many recipients"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.in_data.set()
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        if self.fail_next:
            return self.fail_next.pop(0)
        raw = envelope.original_content or envelope.content
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(raw), raw))
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[str, int, SmtpSink]]:
    from aiosmtpd.controller import Controller

    sink = SmtpSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    yield "127.0.0.1", port, sink
    controller.stop()


def write_config(root: Path, feeds: list[str], settings: str = "", watchlist: str | None = None) -> Path:
    """A config folder with the shipped watchlist (unless given), the feeds and extra settings."""
    cfg = root / "config"
    cfg.mkdir(parents=True, exist_ok=True)
    if "[poll]" not in settings:  # the tests' server is one host: no politeness gap needed
        settings = '[poll]\nhost_gap = "0s"\n' + settings
    (cfg / "aggregator.toml").write_text('data_dir = "../data"\nseeds_dir = "../seeds"\n' + settings, encoding="utf-8")
    (cfg / "feeds.toml").write_text("".join(f'[[feed]]\nurl = "{u}"\n\n' for u in feeds), encoding="utf-8")
    shipped = (ROOT / "config" / "watchlist.toml").read_text(encoding="utf-8")
    (cfg / "watchlist.toml").write_text(watchlist if watchlist is not None else shipped, encoding="utf-8")
    return cfg


def rss(items: list[dict[str, str]], title: str = "Fixture feed") -> bytes:
    """A small RSS 2.0 document. Items: guid, title, link, description, pubDate."""
    from xml.sax.saxutils import escape

    parts = [
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{escape(title)}</title>'
        "<link>https://example.org/</link><description>fixture</description>"
    ]
    for it in items:
        parts.append("<item>" + "".join(f"<{k}>{escape(v)}</{k}>" for k, v in it.items()) + "</item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode()


def gzip_bomb(size: int) -> bytes:
    return gzip.compress(b"\0" * size, compresslevel=9)


def wait_for(predicate: Callable[[], bool], timeout: float = 20.0) -> bool:
    """For tests that drive a real daemon process: poll a condition (never a fixed sleep)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()
