"""A tiny stand-in for the Hugging Face Hub on 127.0.0.1: revision and tree APIs, resolve with Range.

LFS files (``.pt``/``.pth`` or larger than ``lfs_threshold``) are listed with their sha256 and are
served through a redirect to a "CDN" path on another host name (``localhost``), as the real Hub does,
so tests can check that the token is not sent there. Every request is recorded.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import socket
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


@dataclasses.dataclass
class Request:
    method: str
    path: str
    range: str | None
    authorization: str | None
    file: str | None = None  # "repo:path" of the file served, for resolve and CDN requests
    sent: int = 0
    status: int = 0


@dataclasses.dataclass
class RepoFile:
    repo: str
    path: str
    data: bytes
    lfs: bool

    @property
    def key(self) -> str:
        return f"{self.repo}:{self.path}"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


class FakeHub:
    def __init__(
        self, repos: dict[str, dict[str, bytes]], page_size: int = 3, lfs_threshold: int = 64_000
    ) -> None:
        self.files: dict[str, RepoFile] = {}
        self.repos: dict[str, list[RepoFile]] = {}
        for repo, content in repos.items():
            entries = []
            for path, data in sorted(content.items()):
                lfs = path.endswith((".pt", ".pth")) or len(data) > lfs_threshold
                entry = RepoFile(repo, path, data, lfs)
                entries.append(entry)
                self.files[entry.key] = entry
            self.repos[repo] = entries
        self.page_size = page_size
        self.requests: list[Request] = []
        self.cut_once: set[str] = set()  # keys whose next full GET is cut half way
        self.corrupt_once: set[str] = set()  # keys whose next GET serves wrong bytes
        self.fail_once: dict[str, int] = {}  # request path prefix -> HTTP status served once
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    # ---- lifecycle ----

    def __enter__(self) -> FakeHub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @staticmethod
    def commit(repo: str) -> str:
        return hashlib.sha1(repo.encode(), usedforsecurity=False).hexdigest()

    # ---- queries for assertions ----

    def downloads(self, key: str | None = None) -> list[Request]:
        """Requests that transferred file content (resolve without redirect, or CDN)."""
        with self._lock:
            found = [r for r in self.requests if r.file is not None and r.status in (200, 206)]
        return [r for r in found if key is None or r.file == key]

    def bytes_sent(self) -> int:
        with self._lock:
            return sum(r.sent for r in self.requests)

    def reset_log(self) -> None:
        with self._lock:
            self.requests.clear()

    # ---- HTTP ----

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                record = Request(
                    "GET", self.path, self.headers.get("Range"), self.headers.get("Authorization")
                )
                with hub._lock:
                    hub.requests.append(record)
                    failing = next((p for p in hub.fail_once if self.path.startswith(p)), None)
                    status = hub.fail_once.pop(failing) if failing else None
                if status is not None:
                    record.status = status
                    self._send(status, b"{}", "application/json")
                    return
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    hub._route(self, record)

            def _send(
                self, status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for key, value in (extra or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def _route(self, h: BaseHTTPRequestHandler, record: Request) -> None:
        parts = urllib.parse.urlsplit(h.path)
        path = urllib.parse.unquote(parts.path)
        query = urllib.parse.parse_qs(parts.query)
        send = h._send  # type: ignore[attr-defined]
        segments = path.strip("/").split("/")
        if path.startswith("/api/models/") and len(segments) >= 6:
            repo = f"{segments[2]}/{segments[3]}"
            if repo not in self.repos:
                record.status = 404
                send(404, b'{"error":"Repository not found"}', "application/json")
                return
            if segments[4] == "revision":
                record.status = 200
                send(200, json.dumps({"sha": self.commit(repo)}).encode(), "application/json")
                return
            if segments[4] == "tree" and segments[5] == self.commit(repo):
                self._tree(h, record, repo, int(query.get("cursor", ["0"])[0]))
                return
        if path.startswith("/cdn/"):
            sha = segments[1]
            found = next((f for f in self.files.values() if f.sha256 == sha), None)
            if found is not None:
                self._serve(h, record, found)
                return
        if len(segments) >= 5 and segments[2] == "resolve":
            repo = f"{segments[0]}/{segments[1]}"
            entry = self.files.get(f"{repo}:{'/'.join(segments[4:])}")
            if entry is not None and segments[3] == self.commit(repo):
                if entry.lfs:
                    record.status = 302
                    location = f"http://localhost:{self.port}/cdn/{entry.sha256}"
                    send(302, b"", "text/plain", {"Location": location})
                else:
                    self._serve(h, record, entry)
                return
        record.status = 404
        send(404, b'{"error":"not found"}', "application/json")

    def _tree(self, h: BaseHTTPRequestHandler, record: Request, repo: str, cursor: int) -> None:
        entries: list[dict[str, Any]] = []
        dirs = sorted({f.path.rsplit("/", 1)[0] for f in self.repos[repo] if "/" in f.path})
        entries.extend({"type": "directory", "path": d, "oid": "0" * 40, "size": 0} for d in dirs)
        for f in self.repos[repo]:
            item: dict[str, Any] = {
                "type": "file",
                "path": f.path,
                "size": len(f.data),
                "oid": git_blob_id(f.data),
            }
            if f.lfs:
                item["lfs"] = {"oid": f.sha256, "size": len(f.data), "pointerSize": 134}
            entries.append(item)
        page = entries[cursor : cursor + self.page_size]
        extra = {}
        if cursor + self.page_size < len(entries):
            nxt = f"{self.endpoint}/api/models/{repo}/tree/{self.commit(repo)}?recursive=true&cursor={cursor + self.page_size}"
            extra["Link"] = f'<{nxt}>; rel="next"'
        record.status = 200
        h._send(200, json.dumps(page).encode(), "application/json", extra)  # type: ignore[attr-defined]

    def _serve(self, h: BaseHTTPRequestHandler, record: Request, entry: RepoFile) -> None:
        record.file = entry.key
        data = entry.data
        start = 0
        status = 200
        headers = {"Accept-Ranges": "bytes"}
        if record.range:
            start = int(record.range.removeprefix("bytes=").split("-")[0])
            if start >= len(data):
                record.status = 416
                h._send(416, b"", "text/plain", {"Content-Range": f"bytes */{len(data)}"})  # type: ignore[attr-defined]
                return
            status = 206
            headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        body = data[start:]
        with self._lock:
            cut = entry.key in self.cut_once and start == 0
            corrupt = entry.key in self.corrupt_once
            self.cut_once.discard(entry.key)
            self.corrupt_once.discard(entry.key)
        if corrupt:
            body = bytes(b ^ 0xFF for b in body[:16]) + body[16:]
        record.status = status
        h.send_response(status)
        h.send_header("Content-Type", "application/octet-stream")
        h.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            h.send_header(key, value)
        h.end_headers()
        if cut:
            half = body[: len(body) // 2]
            h.wfile.write(half)
            h.wfile.flush()
            record.sent = len(half)
            h.close_connection = True
            h.connection.shutdown(socket.SHUT_RDWR)
            return
        h.wfile.write(body)
        record.sent = len(body)
