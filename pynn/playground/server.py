"""The playground's HTTP server: the standard library's, on 127.0.0.1, for one local user.

Security model (a page that trains a network on the learner's machine):

- the server binds 127.0.0.1 only, on the port asked for (0: any free one);
- a random token (``secrets.token_urlsafe(24)``) is part of the URL printed
  at start; every request must carry it as ``?token=...`` or in the
  ``X-Pynn-Token`` header, compared with ``hmac.compare_digest``; 403
  otherwise, before anything else is looked at;
- the ``Host`` header must be ``127.0.0.1:PORT`` or ``localhost:PORT``
  (403 otherwise): a web page on another site whose name is made to resolve
  to 127.0.0.1 (DNS rebinding) is refused even before the token is checked;
- the only page served is the playground's own (from the package, chosen by
  a fixed table of paths, never by joining a path from the request), the
  rest is a small JSON API and ``/step``, the next step drawn whole by
  :mod:`pynn.explain_html` (generated, not a file; its CSP allows no
  connection at all); every other path is 404;
- request bodies: POST only to the API, ``Content-Type: application/json``,
  a ``Content-Length`` of at most ``MAX_BODY`` bytes; the JSON is parsed
  strictly (no NaN/Infinity, no duplicate keys, an object at the top) and
  every field is checked (:func:`pynn.playground.session.check_config`:
  sizes, layer and unit counts, learning-rate range, steps per request), so
  no request can make the server allocate or compute without bound;
- responses carry a Content-Security-Policy that lets the page talk only to
  this server and load nothing from anywhere, ``no-store`` caching, no
  referrer, and no framing;
- a user's CSV file is read only from the paths given on the command line,
  once, at start.

Why no web framework: one local user, a handful of small JSON requests a
second; ``http.server.ThreadingHTTPServer`` does that, and the page asks for
training steps with ``fetch`` in a loop (no websocket needed, and training
stops when the page is closed).  One :class:`~pynn.playground.session.Session`
holds the network under a lock.
"""
from __future__ import annotations

import hmac
import json
import math
import re
import sys
import traceback
import secrets
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any, Callable, Dict, Optional, Tuple
from urllib.parse import parse_qs, urlsplit

from .session import ConfigError, Session

__all__ = ["MAX_BODY", "PlaygroundServer", "make_server", "strict_json"]

MAX_BODY = 64 * 1024  # bytes of a request body
_TOKEN_HEADER = "X-Pynn-Token"


def _page() -> bytes:
    return resources.files(__package__).joinpath("page.html").read_bytes()


def _reject_constant(name: str) -> Any:
    raise ValueError("%s is not allowed in the request's JSON" % name)


def _no_duplicates(pairs: Any) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError("key %r appears twice in the request's JSON" % key)
        out[key] = value
    return out


def strict_json(body: bytes) -> Dict[str, Any]:
    """Parse a request body: UTF-8 JSON whose top level is an object, without NaN/Infinity or
    duplicate keys.  ValueError otherwise."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("the request body must be UTF-8") from None
    value = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_no_duplicates)
    if not isinstance(value, dict):
        raise ValueError("the request body must be a JSON object")
    return value


def _finite(value: Any) -> Any:
    """``value`` with every float that is not finite (a diverged network's) replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _only(body: Dict[str, Any], *keys: str) -> None:
    extra = sorted(set(body) - set(keys))
    if extra:
        raise ConfigError("unknown field(s) in the request: %s" % ", ".join(extra))


_DIGITS = re.compile(r"[0-9]{1,12}")  # ASCII digits only (str.isdigit would take "²")

_CSP = ("default-src 'none'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; img-src data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


# the drawn step (pynn.explain_html's page): its own inline script and style, and no connection anywhere
_STEP_CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; "
             "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


class _Handler(BaseHTTPRequestHandler):
    server: "PlaygroundServer"
    protocol_version = "HTTP/1.1"
    server_version = "pynn-playground"
    sys_version = ""
    timeout = 30  # seconds a connection may sit idle or dribble a request

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: request lines would print the token."""

    # -- responses ------------------------------------------------------------------------
    def _send(self, status: int, body: bytes, content_type: str, nonce: Optional[str] = None,
              csp: Optional[str] = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Cross-Origin-Resource-Policy", "same-origin")
        self.send_header("Content-Security-Policy", csp or _CSP.format(nonce=nonce or secrets.token_urlsafe(8)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, value: Any) -> None:
        body = json.dumps(_finite(value), allow_nan=False, separators=(",", ":")).encode("utf-8")
        self._send(status, body, "application/json; charset=utf-8")

    def _error(self, status: int, message: str) -> None:
        self._json(status, {"error": message})

    # -- checks ---------------------------------------------------------------------------
    def _allowed(self) -> Optional[Tuple[str, Dict[str, Any]]]:
        """(path, query) when Host and token are right; else the 403 is sent and None returned."""
        host = (self.headers.get("Host") or "").strip().lower()
        port = self.server.server_address[1]
        if host not in ("127.0.0.1:%d" % port, "localhost:%d" % port):
            self.close_connection = True
            self._error(HTTPStatus.FORBIDDEN, "the Host header must be 127.0.0.1:%d or localhost:%d" % (port, port))
            return None
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        given = self.headers.get(_TOKEN_HEADER) or (query.get("token") or [""])[0]
        if not hmac.compare_digest(given.encode("utf-8", "replace"), self.server.token.encode("utf-8")):
            self.close_connection = True
            self._error(HTTPStatus.FORBIDDEN, "a valid token is needed: use the address pynn playground printed")
            return None
        return parts.path, query

    def _body(self) -> Optional[Dict[str, Any]]:
        """The request's JSON object; on any problem the error is sent and None returned."""
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/json":
            self.close_connection = True
            self._error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "the request body must be application/json")
            return None
        length = (self.headers.get("Content-Length") or "").strip()
        if not _DIGITS.fullmatch(length):
            self.close_connection = True
            self._error(HTTPStatus.LENGTH_REQUIRED, "a Content-Length is needed")
            return None
        if int(length) > MAX_BODY:
            self.close_connection = True
            self._error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "request bodies are limited to %d bytes" % MAX_BODY)
            return None
        try:
            return strict_json(self.rfile.read(int(length)))
        except ValueError as exc:
            self._error(HTTPStatus.BAD_REQUEST, str(exc))
            return None

    # -- methods --------------------------------------------------------------------------
    def do_GET(self) -> None:
        allowed = self._allowed()
        if allowed is None:
            return
        try:
            self._get(*allowed)
        except Exception as exc:
            self._internal_error(exc)

    def _get(self, path: str, query: Dict[str, Any]) -> None:
        session = self.server.session
        if path == "/":
            nonce = secrets.token_urlsafe(16)
            page = self.server.page.replace(b"{{NONCE}}", nonce.encode("ascii"))
            self._send(HTTPStatus.OK, page, "text/html; charset=utf-8", nonce=nonce)
        elif path == "/api/state":
            self._json(HTTPStatus.OK, session.state())
        elif path == "/step":  # the next step drawn whole by pynn.explain_html (a generated page)
            sample = (query.get("sample") or ["0"])[0]
            try:
                if not _DIGITS.fullmatch(sample) or len(sample) > 6:
                    raise ConfigError("sample must be a whole number, got %r" % sample)
                page = session.step_page(int(sample)).encode("utf-8")
            except ConfigError as exc:
                self._error(HTTPStatus.BAD_REQUEST, str(exc))
                return
            self._send(HTTPStatus.OK, page, "text/html; charset=utf-8", csp=_STEP_CSP)
        else:
            self._error(HTTPStatus.NOT_FOUND, "no such page")

    do_HEAD = do_GET

    def do_POST(self) -> None:
        allowed = self._allowed()
        if allowed is None:
            return
        path, _ = allowed
        action = self.server.actions.get(path)
        if action is None:
            self.close_connection = True
            self._error(HTTPStatus.NOT_FOUND, "no such page")
            return
        body = self._body()
        if body is None:
            return
        try:
            result = action(body)
        except ConfigError as exc:
            self._error(HTTPStatus.BAD_REQUEST, str(exc))
            return
        except Exception as exc:  # a bug: say so on the page and in the terminal, keep serving
            self._internal_error(exc)
            return
        self._json(HTTPStatus.OK, result)

    def _internal_error(self, exc: Exception) -> None:
        traceback.print_exc(file=sys.stderr)
        self.close_connection = True
        self._error(HTTPStatus.INTERNAL_SERVER_ERROR, "pynn playground failed: %s: %s" % (type(exc).__name__, exc))

    def _refuse(self) -> None:
        if self._allowed() is not None:
            self._error(HTTPStatus.METHOD_NOT_ALLOWED, "only GET and POST")

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse


class PlaygroundServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer on 127.0.0.1 serving one :class:`Session`; ``url`` carries the token."""

    daemon_threads = True
    allow_reuse_address = False

    def __init__(self, session: Session, port: int = 0, token: Optional[str] = None) -> None:
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValueError("port must be an integer from 0 to 65535, got %r" % (port,))
        super().__init__(("127.0.0.1", port), _Handler)
        self.session = session
        self.token = token or secrets.token_urlsafe(24)
        self.page = _page()
        self.actions: Dict[str, Callable[[Dict[str, Any]], Any]] = {
            "/api/config": self._configure, "/api/reset": self._reset, "/api/step": self._step,
            "/api/preset": self._preset, "/api/explain": self._explain,
        }
        self._thread: Optional[threading.Thread] = None

    # the API: each takes the request's JSON object (fields checked) and returns the answer's
    def _configure(self, body: Dict[str, Any]) -> Any:
        _only(body, "config", "keep_lesson")
        keep = body.get("keep_lesson", False)
        if not isinstance(keep, bool):
            raise ConfigError("keep_lesson must be true or false")
        return self.session.configure(body.get("config"), keep_comparison=keep)

    def _reset(self, body: Dict[str, Any]) -> Any:
        _only(body)
        return self.session.reset()

    def _step(self, body: Dict[str, Any]) -> Any:
        _only(body, "steps")
        return self.session.step(body.get("steps", 1))

    def _preset(self, body: Dict[str, Any]) -> Any:
        _only(body, "name")
        return self.session.preset(body.get("name"))

    def _explain(self, body: Dict[str, Any]) -> Any:
        _only(body, "index")
        return self.session.explain(body.get("index"))

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        return "http://127.0.0.1:%d/?token=%s" % (self.port, self.token)

    def start(self) -> "PlaygroundServer":
        """Serve in a background thread (for tests and scripts); ``stop()`` ends it."""
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="pynn-playground", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)


def make_server(session: Optional[Session] = None, port: int = 0, data_paths: Tuple[str, ...] = ()
                ) -> PlaygroundServer:
    """A :class:`PlaygroundServer` (not yet serving) for ``session``, or for a new session over the
    generated data sets and the CSV files at ``data_paths``."""
    if session is None:
        session = new_session(data_paths)
    return PlaygroundServer(session, port)


def new_session(data_paths: Tuple[str, ...] = ()) -> Session:
    """A Session over the generated data sets, then one per CSV file (first one chosen)."""
    from .session import builtin_datasets, load_csv
    datasets = builtin_datasets()
    first = None
    for k, path in enumerate(data_paths):
        key = "file-%d" % (k + 1)
        datasets[key] = load_csv(path, key)
        first = first or key
    return Session(datasets, {"dataset": first} if first else None)

