"""Just enough of the Hugging Face Hub HTTP API (tree API and resolve endpoint), no third-party code."""

from __future__ import annotations

import dataclasses
import http.client
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import IO, Any

from .errors import HubError, TransientError


@dataclasses.dataclass(frozen=True)
class RemoteFile:
    path: str
    size: int
    sha256: str | None  # LFS files
    git_oid: str | None  # git blob id (sha1) of small files

    def expected(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"size": self.size}
        if self.sha256:
            entry["sha256"] = self.sha256
        elif self.git_oid:
            entry["git_sha1"] = self.git_oid
        return entry


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(
        self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str, headers: Any, newurl: str
    ) -> None:
        return None


class HubClient:
    """Just enough of the Hugging Face Hub HTTP API to list a repo and fetch its files."""

    MAX_REDIRECTS = 5
    MAX_PAGES = 1000

    def __init__(self, endpoint: str, token: str | None, timeout: float) -> None:
        self.endpoint = endpoint.rstrip("/")
        self._token = token
        self.timeout = timeout
        self._opener = urllib.request.build_opener(_NoRedirect)
        self._endpoint_host = urllib.parse.urlsplit(self.endpoint).netloc

    def _headers(self, url: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        headers = {"User-Agent": "songgen-entrypoint/1", "Accept-Encoding": "identity"}
        # The token goes to the configured endpoint only, never to a CDN host it redirects to.
        if self._token and urllib.parse.urlsplit(url).netloc == self._endpoint_host:
            headers["Authorization"] = f"Bearer {self._token}"
        if extra:
            headers.update(extra)
        return headers

    def open(self, url: str, extra_headers: Mapping[str, str] | None = None) -> http.client.HTTPResponse:
        """GET url following redirects by hand; returns the open response (2xx or 416)."""
        for _ in range(self.MAX_REDIRECTS + 1):
            request = urllib.request.Request(url, headers=self._headers(url, extra_headers))  # noqa: S310
            try:
                response: http.client.HTTPResponse = self._opener.open(request, timeout=self.timeout)
                return response
            except urllib.error.HTTPError as err:
                if err.code in {301, 302, 303, 307, 308} and err.headers.get("Location"):
                    url = urllib.parse.urljoin(url, err.headers["Location"])
                    err.close()
                    continue
                if err.code == 416:
                    return err  # type: ignore[return-value]
                detail = _safe_body(err)
                err.close()
                if err.code in {429, 500, 502, 503, 504}:
                    raise TransientError(f"HTTP {err.code} from {_redact(url)}") from None
                if err.code in {401, 403}:
                    hint = "HF_TOKEN is missing or lacks access" if err.code == 401 else "access denied"
                    raise HubError(f"HTTP {err.code} from {_redact(url)} ({hint}) {detail}") from None
                raise HubError(f"HTTP {err.code} from {_redact(url)} {detail}") from None
            except (urllib.error.URLError, OSError, http.client.HTTPException) as err:
                raise TransientError(f"{type(err).__name__} on {_redact(url)}: {err}") from None
        raise HubError(f"too many redirects from {_redact(url)}")

    def get_json(self, url: str) -> tuple[Any, str | None]:
        response = self.open(url)
        with response:
            try:
                body = response.read()
            except (OSError, http.client.HTTPException) as err:
                raise TransientError(f"{type(err).__name__} reading {_redact(url)}") from None
            link = response.headers.get("Link")
        try:
            return json.loads(body), link
        except ValueError:
            raise HubError(f"{_redact(url)} did not answer JSON") from None

    def resolve_revision(self, repo: str, revision: str) -> str:
        url = f"{self.endpoint}/api/models/{repo}/revision/{urllib.parse.quote(revision, safe='')}"
        data, _ = self.get_json(url)
        sha = data.get("sha") if isinstance(data, dict) else None
        if not isinstance(sha, str) or not sha:
            raise HubError(f"{repo}@{revision}: the Hub did not give a commit id")
        return sha

    def list_files(self, repo: str, commit: str) -> list[RemoteFile]:
        url: str | None = f"{self.endpoint}/api/models/{repo}/tree/{commit}?recursive=true"
        files: list[RemoteFile] = []
        for _ in range(self.MAX_PAGES):
            if url is None:
                return files
            data, link = self.get_json(url)
            if not isinstance(data, list):
                raise HubError(f"{repo}: unexpected tree listing")
            for entry in data:
                if not isinstance(entry, dict) or entry.get("type") != "file":
                    continue
                path = str(entry.get("path", ""))
                check_repo_path(repo, path)
                lfs = entry.get("lfs") if isinstance(entry.get("lfs"), dict) else None
                size = int(lfs.get("size", entry.get("size", 0)) if lfs else entry.get("size", 0))
                sha256 = str(lfs["oid"]) if lfs and lfs.get("oid") else None
                oid = entry.get("oid")
                files.append(RemoteFile(path, size, sha256, None if sha256 else (str(oid) if oid else None)))
            url = _next_link(link, url)
        raise HubError(f"{repo}: tree listing has more than {self.MAX_PAGES} pages")

    def file_url(self, repo: str, commit: str, path: str) -> str:
        return f"{self.endpoint}/{repo}/resolve/{commit}/{urllib.parse.quote(path)}"


def _next_link(link: str | None, current: str) -> str | None:
    if not link:
        return None
    for part in link.split(","):
        match = re.search(r'<([^>]+)>\s*;\s*rel="?next"?', part)
        if match:
            return urllib.parse.urljoin(current, str(match.group(1)))
    return None


def _redact(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _safe_body(err: urllib.error.HTTPError) -> str:
    try:
        body = err.read(300).decode("utf-8", "replace").strip()
    except Exception:  # best effort: only adds detail to an error message
        return ""
    return f"- {body}" if body else ""


def check_repo_path(repo: str, path: str) -> None:
    pure = PurePosixPath(path)
    if not path or pure.is_absolute() or ".." in pure.parts or "\\" in path or "\x00" in path:
        raise HubError(f"{repo}: refusing unsafe path {path!r} from the tree listing")
