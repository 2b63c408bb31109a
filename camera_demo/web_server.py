"""The web server of `camera --serve`: a fixed set of routes over one Broadcast, bounded, with a token off loopback.

Standard library only (http.server.ThreadingHTTPServer): a thread per client,
bounded in number, one request per connection (HTTP/1.0). Requests are read
within fixed bounds (request line, header lines and count, no bodies); static
files come from a fixed whitelist read at start, never a path from a request;
nothing is written on this machine for a client (the snapshot is sent from
memory). On loopback without a token only local Host names are answered (DNS
rebinding); with a token every request must carry it (?token=, the cookie the
page sets, or Authorization: Bearer), compared in constant time.
"""

from __future__ import annotations

import hmac
import io
import ipaddress
import json
import socket
import socketserver
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from camera_demo.broadcast import Broadcast

COOKIE = "mnist_edge_token"
MAX_REQUEST_LINE = 4096  # bytes; longer: 414
MAX_HEADER_LINE = 4096  # bytes per header line; longer, or more than MAX_HEADERS lines: 431
MAX_HEADERS = 32
MAX_QUERY_FIELDS = 4
SEND_BUFFER = 128 * 1024  # per client: bounds memory, and a client that stops reading is noticed within a few frames
EVENT_INTERVAL_S = 1 / 30  # at most 30 readings a second per server-sent-events client
IDLE_RESEND_S = 5.0  # frozen or stalled camera: resend the latest frame / a keep-alive this often (finds vanished clients)
BOUNDARY = b"frame"
WEB_DIR = Path(__file__).resolve().parent / "web"
# The only files served: URL path -> (file in camera_demo/web/, content type). Never a path from a request.
STATIC = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
}
PAGE_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
               "frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}
BUSY = (b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 34\r\n"
        b"Retry-After: 5\r\nConnection: close\r\n\r\ntoo many clients; try again later\n")


class ServeError(RuntimeError):
    """The server cannot start (port in use, bad address, weak token); the message says which."""


@dataclass
class ServeSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    token: str | None = None  # when set, every request must carry it
    max_clients: int = 12  # connections at once (a page holds two: stream and events); beyond: 503
    client_timeout: float = 5.0  # s a client may take to send its request or to accept data, then it is dropped


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Handler(BaseHTTPRequestHandler):
    """One client connection, one request (HTTP/1.0): bounded head, checked host and token, a fixed set of routes."""

    protocol_version = "HTTP/1.0"

    # --- reading the request, within bounds ---------------------------------------------------------------
    def setup(self) -> None:
        self.timeout = self.server.settings.client_timeout  # socket timeout for reading the request and every send
        super().setup()
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)

    def handle(self) -> None:
        try:
            self.handle_one_request()
        except TimeoutError:  # the client stopped reading (or never sent its request) for client_timeout s
            self.server.count("dropped")
        except ConnectionError:  # the client hung up
            self.server.count("hung_up")

    def handle_one_request(self) -> None:
        self.close_connection = True
        self.command, self.request_version, self.requestline = None, "HTTP/1.0", ""
        self.raw_requestline = self.rfile.readline(MAX_REQUEST_LINE + 1)
        if not self.raw_requestline:
            return
        if len(self.raw_requestline) > MAX_REQUEST_LINE:
            self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
            return
        head, deadline = [], time.monotonic() + self.server.settings.client_timeout
        while True:
            line = self.rfile.readline(MAX_HEADER_LINE + 1)
            if time.monotonic() > deadline:  # a head sent a line at a time, slowly
                raise TimeoutError
            if len(line) > MAX_HEADER_LINE or len(head) >= MAX_HEADERS:
                self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE)
                return
            head.append(line)
            if line in (b"\r\n", b"\n", b""):
                break
        connection_file, self.rfile = self.rfile, io.BytesIO(b"".join(head))
        try:
            parsed = self.parse_request()  # the standard parser, on the head read above
        finally:
            self.rfile = connection_file
        if parsed:
            self.route()

    def version_string(self) -> str:  # no Python version in the Server header
        return "mnist-edge"

    def log_message(self, format, *args) -> None:  # quiet: no access log (it would hold tokens from URLs)
        pass

    # --- checks and routing ---------------------------------------------------------------------------------
    def route(self) -> None:
        url = urlsplit(self.path)
        try:
            self.query = parse_qs(url.query, max_num_fields=MAX_QUERY_FIELDS)
        except ValueError:
            return self.send_error(HTTPStatus.BAD_REQUEST, "too many query fields")
        if self.server.settings.token is None and not self._host_is_loopback():
            # Serving on loopback without a token: refuse other host names (DNS rebinding from a web page).
            return self.send_error(HTTPStatus.FORBIDDEN, "this server answers only as localhost")
        if not self._authorized():
            return self._send_json({"error": "missing or wrong access token"}, HTTPStatus.UNAUTHORIZED,
                                   {"WWW-Authenticate": 'Bearer realm="mnist-edge"'})
        if self.headers.get("Transfer-Encoding") or (self.headers.get("Content-Length") or "0").strip() != "0":
            return self.send_error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "no request takes a body")
        routes = ROUTES.get(url.path)
        if routes is None:
            return self.send_error(HTTPStatus.NOT_FOUND)
        method = routes.get(self.command)
        if method is None:
            return self.send_error(HTTPStatus.METHOD_NOT_ALLOWED)
        method(self, url.path)

    def _host_is_loopback(self) -> bool:
        """The Host header names this machine (or is absent, as HTTP/1.0 allows; a browser always sends one)."""
        host = (self.headers.get("Host") or "localhost").strip().lower()
        if host.startswith("["):
            host = host[:host.find("]") + 1]
        elif host.count(":") == 1:
            host = host.split(":")[0]
        return is_loopback(host)

    def _offered_tokens(self) -> list[str]:
        offered = list(self.query.get("token", [])[:1])
        auth = self.headers.get("Authorization") or ""
        if auth[:7].lower() == "bearer ":
            offered.append(auth[7:].strip())
        try:
            cookie = SimpleCookie(self.headers.get("Cookie") or "")
        except CookieError:
            cookie = {}
        if COOKIE in cookie:
            offered.append(cookie[COOKIE].value)
        return offered

    def _authorized(self) -> bool:
        token = self.server.settings.token
        if token is None:
            return True
        expected = token.encode()
        return any(hmac.compare_digest(o.encode(), expected) for o in self._offered_tokens())

    # --- responses ------------------------------------------------------------------------------------------
    def _start(self, status, content_type: str, length: int | None = None, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()

    def _send(self, body: bytes, content_type: str, status=HTTPStatus.OK, headers: dict | None = None) -> None:
        self._start(status, content_type, len(body), headers)
        self.wfile.write(body)

    def _send_json(self, payload: dict, status=HTTPStatus.OK, headers: dict | None = None) -> None:
        self._send(json.dumps(payload).encode(), "application/json", status, headers)

    def send_error(self, code, message=None, explain=None) -> None:
        """Errors as short plain text (the standard HTML error page echoes the request)."""
        status = HTTPStatus(code)
        self._send(f"{status.value} {status.phrase}{': ' + message if message else ''}\n".encode(),
                   "text/plain; charset=utf-8", status)

    # --- endpoints ------------------------------------------------------------------------------------------
    def static(self, path: str) -> None:
        if path == "/" and self.server.settings.token and self.query.get("token"):
            # Came with ?token=: keep it in a cookie and drop it from the address bar.
            cookie = f"{COOKIE}={self.server.settings.token}; HttpOnly; SameSite=Strict; Path=/"
            return self._send(b"", "text/plain", HTTPStatus.SEE_OTHER, {"Location": "/", "Set-Cookie": cookie})
        name, content_type = STATIC[path]
        headers = {"Content-Security-Policy": PAGE_POLICY, "X-Frame-Options": "DENY"} if path == "/" else {}
        self._send(self.server.pages[name], content_type, headers=headers)

    def stream(self, path: str) -> None:
        """MJPEG: multipart/x-mixed-replace, one JPEG part per frame, each ended by the next boundary (shown at once)."""
        hub = self.server.hub
        self._start(HTTPStatus.OK, f"multipart/x-mixed-replace; boundary={BOUNDARY.decode()}")
        self.wfile.write(b"--" + BOUNDARY + b"\r\n")
        seq = -1
        with self.server.counted("streams"):
            while not hub.closed:
                frame = hub.wait_newer(seq, IDLE_RESEND_S) or (None if hub.closed else hub.latest())
                if frame is None:
                    continue
                jpeg = frame.jpeg()
                self.wfile.write(b"Content-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(jpeg)
                                 + jpeg + b"\r\n--" + BOUNDARY + b"\r\n")
                seq = frame.seq
                self.server.count("frames_sent")

    def events(self, path: str) -> None:
        """Server-sent events: the latest reading as each frame is read (at most 30 a second), keep-alives between."""
        hub = self.server.hub
        self._start(HTTPStatus.OK, "text/event-stream")
        self.wfile.write(b"retry: 2000\n\n")
        seq, sent = -1, 0.0
        while not hub.closed:
            frame = hub.wait_newer(seq, IDLE_RESEND_S)
            if frame is None:
                self.wfile.write(b": idle\n\n")
                continue
            payload = json.dumps({**frame.as_dict(), "frozen": hub.want_frozen})
            self.wfile.write(f"id: {frame.seq}\ndata: {payload}\n\n".encode())
            seq = frame.seq
            pause = EVENT_INTERVAL_S - (time.perf_counter() - sent)
            if pause > 0:
                time.sleep(pause)
            sent = time.perf_counter()

    def reading(self, path: str) -> None:
        frame = self.server.hub.latest()
        if frame is None:
            return self._send_json({"error": "no frame read yet"}, HTTPStatus.SERVICE_UNAVAILABLE, {"Retry-After": "1"})
        self._send_json({**frame.as_dict(), "frozen": self.server.hub.want_frozen})

    def snapshot(self, path: str) -> None:
        """The frame on screen as a JPEG download, from memory: nothing is written on this machine."""
        frame = self.server.hub.latest()
        if frame is None:
            return self.send_error(HTTPStatus.SERVICE_UNAVAILABLE, "no frame read yet")
        name = f"mnist-edge-frame-{frame.record['frame']:06d}.jpg"
        self._send(frame.jpeg(), "image/jpeg", headers={"Content-Disposition": f'attachment; filename="{name}"'})

    def freeze(self, path: str) -> None:
        """POST /api/freeze?frozen=1|0. The custom header makes a cross-site page need a CORS preflight we never grant."""
        if self.headers.get("X-Requested-With") != "mnist-edge":
            return self.send_error(HTTPStatus.FORBIDDEN, "send the header X-Requested-With: mnist-edge")
        value = (self.query.get("frozen") or [""])[0]
        if value not in ("0", "1"):
            return self.send_error(HTTPStatus.BAD_REQUEST, "frozen must be 1 or 0")
        self.server.hub.want_frozen = value == "1"
        self._send_json({"frozen": self.server.hub.want_frozen})

    def health(self, path: str) -> None:
        hub, latest = self.server.hub, self.server.hub.latest()
        self._send_json({"status": "ok" if not hub.closed else "stopping", "source": hub.source,
                         "frames": latest.seq + 1 if latest else 0, "frozen": hub.want_frozen,
                         **self.server.counters()})


ROUTES = {
    **{path: {"GET": Handler.static} for path in STATIC},
    "/stream.mjpg": {"GET": Handler.stream},
    "/snapshot.jpg": {"GET": Handler.snapshot},
    "/api/reading": {"GET": Handler.reading},
    "/api/events": {"GET": Handler.events},
    "/api/freeze": {"POST": Handler.freeze},
    "/healthz": {"GET": Handler.health},
}


class WebServer(ThreadingHTTPServer):
    """ThreadingHTTPServer with a bound on connections at once: beyond it, 503 from the accepting thread, no new thread."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 16

    def __init__(self, settings: ServeSettings, hub: Broadcast):
        self.settings, self.hub = settings, hub
        self.pages = {name: (WEB_DIR / name).read_bytes() for name, _ in STATIC.values()}
        self.address_family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
        self._lock = threading.Lock()
        self._counts = {"clients": 0, "streams": 0, "frames_sent": 0, "dropped": 0, "hung_up": 0,
                        "refused": 0}
        super().__init__((settings.host, settings.port), Handler)

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)  # HTTPServer's would look the host's name up in DNS
        self.server_name, self.server_port = self.settings.host, self.server_address[1]

    def count(self, name: str, step: int = 1) -> None:
        with self._lock:
            self._counts[name] += step

    @contextmanager
    def counted(self, name: str):
        self.count(name)
        try:
            yield
        finally:
            self.count(name, -1)

    def counters(self) -> dict:
        with self._lock:
            return dict(self._counts)

    def process_request(self, request, client_address) -> None:
        with self._lock:
            full = self._counts["clients"] >= self.settings.max_clients
            self._counts["refused" if full else "clients"] += 1
        if not full:
            return super().process_request(request, client_address)
        try:  # read what already arrived (without waiting) so closing does not reset the connection, answer, close
            request.setblocking(False)
            try:
                request.recv(MAX_REQUEST_LINE + MAX_HEADERS * MAX_HEADER_LINE)
            except BlockingIOError:
                pass
            request.send(BUSY)
        except OSError:
            pass
        self.shutdown_request(request)

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.count("clients", -1)


def start_server(settings: ServeSettings, hub: Broadcast) -> WebServer:
    """Listen and serve in a background thread; ServeError when the address cannot be had."""
    try:
        server = WebServer(settings, hub)
    except OSError as exc:
        raise ServeError(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}") from exc
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="mnist-edge web",
                     daemon=True).start()
    return server


def stop_server(server: WebServer, hub: Broadcast) -> None:
    hub.close()  # wakes every client waiting for a frame: they hang up
    server.shutdown()
    server.server_close()
