"""A stand-in for a Space's public host (``https://<owner>-<name>.hf.space``) on 127.0.0.1.

It records every request and, as the Space's proxy does, passes it on to the Studio inside the
"container" when given the Studio's port, from another loopback address, so the Studio's access log
shows it as coming from outside. Kept to what the keep-awake tests read (``host``, ``url``,
``visits``) so a fuller Hub stand-in can take its place.
"""

from __future__ import annotations

import dataclasses
import http.client
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclasses.dataclass(frozen=True)
class Visit:
    method: str
    path: str
    authorization: str | None
    at: float  # time.monotonic() when it arrived
    studio_status: int | None  # what the Studio answered when passed on


class SpaceHost:
    def __init__(self, studio_port: int | None = None, proxy_source: str = "127.0.0.2") -> None:
        self.studio_port = studio_port
        self.proxy_source = proxy_source
        self.visits: list[Visit] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def host(self) -> str:
        """What Spaces puts in SPACE_HOST."""
        return f"127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        return f"http://{self.host}/"

    def __enter__(self) -> SpaceHost:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def snapshot(self) -> list[Visit]:
        with self._lock:
            return list(self.visits)

    def _pass_on(self, path: str) -> int | None:
        if self.studio_port is None:
            return None
        conn = http.client.HTTPConnection(
            "127.0.0.1", self.studio_port, timeout=5, source_address=(self.proxy_source, 0)
        )
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            return response.status
        except OSError:
            return None
        finally:
            conn.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        space = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                arrived = time.monotonic()
                status = space._pass_on(self.path)
                with space._lock:
                    space.visits.append(
                        Visit("GET", self.path, self.headers.get("Authorization"), arrived, status)
                    )
                body = b"<html>space</html>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler
