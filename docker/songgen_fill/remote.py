"""The Hub through huggingface_hub: a revision's commit, the repo's file listing, where each file comes from.

The token goes to the configured endpoint's own origin and nowhere else: API calls and the resolve
URL of small files carry it; an LFS file's HEAD answers with a redirect to the Hub's CDN (another
host), and the ranged GETs that follow go there without it. (A small file's resolve URL answers with
its content; were it ever redirected off the endpoint, the HTTP client drops the token on the way.)
"""

from __future__ import annotations

import contextlib
import dataclasses
import urllib.parse
from collections.abc import Iterator
from pathlib import PurePosixPath

import httpx2
from huggingface_hub import HfApi, get_hf_file_metadata, hf_hub_url
from huggingface_hub.errors import FileMetadataError, HfHubHTTPError
from huggingface_hub.hf_api import RepoFile

# huggingface_hub.utils.build_hf_headers, from its defining module (the lazy re-export hides it from mypy)
from huggingface_hub.utils._headers import build_hf_headers
from songgen_boot.checksums import Expected
from songgen_boot.errors import HubError, TransientError

LIBRARY_NAME = "songgen-studio-fill"
TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# The Hub's signed CDN links expire (an hour); a 403 from the CDN means: ask the Hub for a new one.
EXPIRED_LINK_STATUSES = frozenset({403})


@dataclasses.dataclass(frozen=True)
class RemoteFile:
    path: str
    expected: Expected
    lfs: bool  # served through a redirect to the CDN


@dataclasses.dataclass(frozen=True)
class Source:
    """Where one file's bytes are fetched from, with the headers to send there."""

    url: str
    headers: dict[str, str]
    on_cdn: bool


class LinkExpiredError(TransientError):
    """The CDN refused a signed link; the Hub gives a fresh one."""


class Remote:
    def __init__(self, endpoint: str, token: str | None, timeout: float) -> None:
        self.endpoint = endpoint.rstrip("/")
        self._token: str | bool = token or False  # False: never a token read from the machine
        self.timeout = timeout
        self.api = HfApi(endpoint=self.endpoint, token=self._token, library_name=LIBRARY_NAME)

    def commit(self, repo: str, revision: str) -> str:
        with hub_errors(f"{repo}@{revision}"):
            sha = self.api.repo_info(repo, revision=revision, repo_type="model", timeout=self.timeout).sha
        if not sha:
            raise HubError(f"{repo}@{revision}: the Hub did not give a commit id")
        return sha

    def files(self, repo: str, commit: str) -> list[RemoteFile]:
        found: list[RemoteFile] = []
        with hub_errors(f"{repo}: listing"):
            for entry in self.api.list_repo_tree(repo, recursive=True, revision=commit, repo_type="model"):
                if isinstance(entry, RepoFile):
                    found.append(remote_file(repo, entry))
        return found

    def source(self, repo: str, commit: str, file: RemoteFile) -> Source:
        url = hf_hub_url(repo, file.path, revision=commit, endpoint=self.endpoint)
        if not file.lfs:
            return Source(url, self.headers(url), on_cdn=False)
        with hub_errors(f"{repo}:{file.path}"):
            meta = get_hf_file_metadata(
                url,
                token=self._token,
                timeout=self.timeout,
                library_name=LIBRARY_NAME,
                endpoint=self.endpoint,
            )
        return Source(meta.location, self.headers(meta.location), on_cdn=not self.is_endpoint(meta.location))

    def headers(self, url: str) -> dict[str, str]:
        token = self._token if self.is_endpoint(url) else False
        headers = build_hf_headers(token=token, library_name=LIBRARY_NAME)
        headers["Accept-Encoding"] = "identity"  # byte ranges of the file itself, never of a compressed body
        return headers

    def is_endpoint(self, url: str) -> bool:
        return _origin(url) == _origin(self.endpoint)


def remote_file(repo: str, entry: RepoFile) -> RemoteFile:
    check_repo_path(repo, entry.path)
    if entry.lfs is not None:
        return RemoteFile(entry.path, Expected(entry.lfs.size, sha256=entry.lfs.sha256), lfs=True)
    return RemoteFile(entry.path, Expected(entry.size, git_sha1=entry.blob_id), lfs=False)


def check_repo_path(repo: str, path: str) -> None:
    pure = PurePosixPath(path)
    if not path or pure.is_absolute() or ".." in pure.parts or "\\" in path or "\x00" in path:
        raise HubError(f"{repo}: refusing unsafe path {path!r} from the tree listing")


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


@contextlib.contextmanager
def hub_errors(what: str) -> Iterator[None]:
    """The library's errors as the boot's: TransientError (worth a retry) or HubError (not)."""
    try:
        yield
    except HfHubHTTPError as err:
        status = err.response.status_code if err.response is not None else 0
        detail = f"HTTP {status} from {what}"
        if status in TRANSIENT_STATUSES:
            raise TransientError(detail) from None
        hint = {401: " (HF_TOKEN is missing or lacks access)", 403: " (access denied)"}.get(status, "")
        message = f" - {err.server_message}" if err.server_message else ""
        raise HubError(f"{detail}{hint}{message}") from None
    except FileMetadataError as err:
        raise HubError(f"{what}: {err}") from None
    except httpx2.TransportError as err:
        raise TransientError(f"{type(err).__name__} on {what}: {err}") from None
