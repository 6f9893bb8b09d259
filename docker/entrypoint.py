#!/usr/bin/env python3
"""Container entrypoint of the SongGeneration Studio image.

What it does, in order, on every boot:

1. Reads its configuration from the environment (below) and fails at once, naming every bad variable.
2. If started as root, hands the volume to the unprivileged runtime user and drops to it.
3. Lays out the volume (``SONGGEN_DATA_DIR``, ``/data`` on Fly) and links it into the app directory
   where the Studio expects its files, so nothing a user makes lives on the machine's ephemeral disk::

       /data/runtime/{ckpt,third_party}   <- lglg666/SongGeneration-Runtime   app/ckpt, app/third_party
       /data/models/<model_id>/           <- lglg666/SongGeneration-<name>    app/<model_id>
       /data/output/  /data/uploads/                                          app/output, app/uploads
       /data/queue.json  /data/verified_models.json  /data/timing_history.json  (same names in app/)
       /data/cache/                       HF_HOME, TORCH_HOME, XDG_CACHE_HOME, PYTHONPYCACHEPREFIX
       /data/.songgen/manifests/          what this entrypoint downloaded and verified

4. Fills what is missing from Hugging Face: the runtime bundle and the models in ``SONGGEN_MODELS``.
   Downloads resume (HTTP Range) after a broken connection or a restart, every file is verified
   (sha256 from the tree API's LFS info, the git blob id for small files) before it is moved into
   place, and progress (bytes, percent, rate) goes to stdout. Free space is checked before the first
   byte is fetched. A complete cache is recognised from the local manifests without any network access.
5. Starts the Studio (``python main.py --host 0.0.0.0 --port $PORT`` in the app directory), forwards
   SIGTERM/SIGINT/SIGHUP to it and exits with its exit code.
6. Scale to zero without losing work: with ``SONGGEN_IDLE_STOP_MINUTES`` > 0 it watches the Studio's
   API and its access log. Once nothing has been generating, queued or downloading and no request has
   come in for that long, it stops the Studio and exits 0, so Fly stops the machine (the machine's
   restart policy must be ``on-failure`` or ``no``); Fly's proxy autostart brings it back on the next
   request. It never stops while a song is generating or waiting in the queue.

Why this self-stop and not Fly's proxy autostop (the default for a stack: self-stop on, proxy autostop
off): the proxy only sees HTTP traffic. A song takes minutes; the user closes the tab, the proxy sees
no more requests and stops the machine in the middle of the song, and anything still in the queue never
runs. The entrypoint asks the Studio itself whether work is running or waiting, so it only stops a
machine that is truly idle. Proxy autostop stays available for stacks that disable the self-stop.

Environment (all optional):

==============================  ==========================  =================================================
variable                        default                     meaning
==============================  ==========================  =================================================
SONGGEN_DATA_DIR                /data                       mount point of the persistent volume
SONGGEN_APP_DIR                 /opt/songgen/app            the Studio's app directory in the image
SONGGEN_MODELS                  base                        models to keep on the volume, comma separated:
                                                            base, base-new, base-full, large (or their ids
                                                            songgeneration_base, ...); "none" for none
SONGGEN_IDLE_STOP_MINUTES       15                          self-stop after this long idle; 0 turns it off
                                                            (fractions allowed)
PORT                            7860                        port the Studio listens on
HF_TOKEN                        (unset)                     Hugging Face token, sent only to HF_ENDPOINT;
                                                            never printed
HF_ENDPOINT                     https://huggingface.co      Hugging Face endpoint (mirror)
SONGGEN_HF_REVISION             main                        revision (branch, tag or commit) of every repo
SONGGEN_RUNTIME_REPO            lglg666/SongGeneration-Runtime  repo of the runtime bundle
SONGGEN_DOWNLOAD                1                           0: start with what the volume holds, no fetching
SONGGEN_VERIFY                  size                        warm-boot check of cached files: size (stat
                                                            only) or full (re-hash everything)
SONGGEN_FREE_SPACE_MARGIN_GB    2                           space kept free for songs and uploads
SONGGEN_ASSUME_FREE_BYTES       (unset)                     pretend the volume has this many bytes free
                                                            (tests, dry runs)
SONGGEN_IDLE_POLL_SECONDS       30                          how often the Studio API is asked
SONGGEN_IDLE_IGNORE_PATHS       /api/health                 request paths that are not user activity
                                                            (Fly's health checks)
SONGGEN_STOP_GRACE_SECONDS      20                          wait after SIGTERM before SIGKILL; keep it below
                                                            the machine's stop_config timeout
SONGGEN_HOST                    0.0.0.0                     address the Studio binds
SONGGEN_RUN_AS                  songgen                     user to drop to when started as root; empty:
                                                            stay as started
SONGGEN_PYTHON                  this interpreter            Python that runs the Studio
SONGGEN_DOWNLOAD_RETRIES        8                           attempts per file (each resumes)
SONGGEN_RETRY_BASE_SECONDS      2                           first back-off between attempts (doubles, <=60)
SONGGEN_HTTP_TIMEOUT_SECONDS    60                          socket timeout of one HTTP read
SONGGEN_PROGRESS_SECONDS        10                          interval of download progress lines
SONGGEN_OVERLAY_DIR             /opt/songgen/overlay        patched files laid over the runtime bundle
==============================  ==========================  =================================================

Only the standard library is used so the script runs on whichever Python the image has (3.10+).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import IO, Any, TypeVar

_T = TypeVar("_T")

LOG_PREFIX = "[songgen]"
MANIFEST_FORMAT = 1
CHUNK = 1024 * 1024
GB = 1000**3

# model id (the Studio's name and directory) -> (Hugging Face repo, short name)
MODELS: dict[str, tuple[str, str]] = {
    "songgeneration_base": ("lglg666/SongGeneration-base", "base"),
    "songgeneration_base_new": ("lglg666/SongGeneration-base-new", "base-new"),
    "songgeneration_base_full": ("lglg666/SongGeneration-base-full", "base-full"),
    "songgeneration_large": ("lglg666/SongGeneration-large", "large"),
}
# Directories of the runtime bundle that the Studio expects in its app root.
RUNTIME_DIRS = ("ckpt", "third_party")
# State the Studio writes in its app root: name -> is a directory.
STATE_ENTRIES: dict[str, bool] = {
    "output": True,
    "uploads": True,
    "queue.json": False,
    "verified_models.json": False,
    "timing_history.json": False,
}
STATE_DEFAULTS: dict[str, str] = {"queue.json": "[]\n", "verified_models.json": "{}\n"}
ACTIVE_GENERATION_STATES = frozenset({"pending", "processing", "running", "queued"})

_LOG_LOCK = threading.Lock()


def log(message: str) -> None:
    with _LOG_LOCK:
        sys.stdout.write(f"{LOG_PREFIX} {message}\n")
        sys.stdout.flush()


def human(n: float) -> str:
    """Bytes in decimal units, as Hugging Face and Fly volumes count them."""
    for unit, size in (("GB", GB), ("MB", 1000**2), ("kB", 1000)):
        if abs(n) >= size:
            return f"{n / size:.2f} {unit}"
    return f"{int(n)} B"


# --------------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------------


class ConfigError(Exception):
    """One or more environment variables are invalid; the message names each of them."""


@dataclasses.dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("/data")
    app_dir: Path = Path("/opt/songgen/app")
    overlay_dir: Path = Path("/opt/songgen/overlay")
    models: tuple[str, ...] = ("songgeneration_base",)
    runtime_repo: str = "lglg666/SongGeneration-Runtime"
    revision: str = "main"
    idle_stop_seconds: float = 15 * 60.0
    idle_poll_seconds: float = 30.0
    idle_ignore_paths: tuple[str, ...] = ("/api/health",)
    port: int = 7860
    host: str = "0.0.0.0"  # noqa: S104 - the Studio must be reachable by Fly's proxy
    hf_endpoint: str = "https://huggingface.co"
    hf_token: str | None = dataclasses.field(default=None, repr=False)
    download: bool = True
    verify: str = "size"
    free_space_margin_bytes: int = 2 * GB
    assume_free_bytes: int | None = None
    stop_grace_seconds: float = 20.0
    run_as: str = "songgen"
    python: str = sys.executable
    retries: int = 8
    retry_base_seconds: float = 2.0
    http_timeout_seconds: float = 60.0
    progress_seconds: float = 10.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        errors: list[str] = []
        defaults = cls()

        def text(name: str, default: str) -> str:
            value = env.get(name, "").strip()
            return value or default

        def number(name: str, default: float, minimum: float = 0.0) -> float:
            raw = env.get(name, "").strip()
            if not raw:
                return default
            try:
                value = float(raw)
            except ValueError:
                errors.append(f"{name}={raw!r} is not a number")
                return default
            if value < minimum:
                errors.append(f"{name}={raw!r} must be >= {minimum:g}")
                return default
            return value

        def flag(name: str, default: bool) -> bool:
            raw = env.get(name, "").strip().lower()
            if not raw:
                return default
            if raw in {"1", "true", "yes", "on"}:
                return True
            if raw in {"0", "false", "no", "off"}:
                return False
            errors.append(f"{name}={raw!r} must be 1 or 0")
            return default

        models = parse_models(env.get("SONGGEN_MODELS", "base"), errors)

        port_raw = text("PORT", str(defaults.port))
        port = defaults.port
        if not port_raw.isdigit() or not 0 < int(port_raw) < 65536:
            errors.append(f"PORT={port_raw!r} must be a TCP port (1-65535)")
        else:
            port = int(port_raw)

        endpoint = text("HF_ENDPOINT", defaults.hf_endpoint).rstrip("/")
        if urllib.parse.urlsplit(endpoint).scheme not in {"http", "https"}:
            errors.append(f"HF_ENDPOINT={endpoint!r} must be an http(s) URL")

        verify = text("SONGGEN_VERIFY", defaults.verify).lower()
        if verify not in {"size", "full"}:
            errors.append(f"SONGGEN_VERIFY={verify!r} must be 'size' or 'full'")

        runtime_repo = text("SONGGEN_RUNTIME_REPO", defaults.runtime_repo)
        if not re.fullmatch(r"[\w.-]+/[\w.-]+", runtime_repo):
            errors.append(f"SONGGEN_RUNTIME_REPO={runtime_repo!r} must look like owner/name")

        assume_raw = env.get("SONGGEN_ASSUME_FREE_BYTES", "").strip()
        assume_free: int | None = None
        if assume_raw:
            if assume_raw.isdigit():
                assume_free = int(assume_raw)
            else:
                errors.append(f"SONGGEN_ASSUME_FREE_BYTES={assume_raw!r} must be a whole number of bytes")

        ignore_paths = tuple(
            p.strip() for p in env.get("SONGGEN_IDLE_IGNORE_PATHS", "/api/health").split(",") if p.strip()
        )
        token = env.get("HF_TOKEN", "").strip() or env.get("HUGGING_FACE_HUB_TOKEN", "").strip() or None

        settings = cls(
            data_dir=Path(text("SONGGEN_DATA_DIR", str(defaults.data_dir))),
            app_dir=Path(text("SONGGEN_APP_DIR", str(defaults.app_dir))),
            overlay_dir=Path(text("SONGGEN_OVERLAY_DIR", str(defaults.overlay_dir))),
            models=models,
            runtime_repo=runtime_repo,
            revision=text("SONGGEN_HF_REVISION", defaults.revision),
            idle_stop_seconds=number("SONGGEN_IDLE_STOP_MINUTES", defaults.idle_stop_seconds / 60) * 60,
            idle_poll_seconds=number("SONGGEN_IDLE_POLL_SECONDS", defaults.idle_poll_seconds, 0.01),
            idle_ignore_paths=ignore_paths,
            port=port,
            host=text("SONGGEN_HOST", defaults.host),
            hf_endpoint=endpoint,
            hf_token=token,
            download=flag("SONGGEN_DOWNLOAD", defaults.download),
            verify=verify,
            free_space_margin_bytes=int(
                number("SONGGEN_FREE_SPACE_MARGIN_GB", defaults.free_space_margin_bytes / GB) * GB
            ),
            assume_free_bytes=assume_free,
            stop_grace_seconds=number("SONGGEN_STOP_GRACE_SECONDS", defaults.stop_grace_seconds),
            run_as=env.get("SONGGEN_RUN_AS", defaults.run_as).strip(),
            python=text("SONGGEN_PYTHON", defaults.python),
            retries=int(number("SONGGEN_DOWNLOAD_RETRIES", defaults.retries, 1)),
            retry_base_seconds=number("SONGGEN_RETRY_BASE_SECONDS", defaults.retry_base_seconds),
            http_timeout_seconds=number("SONGGEN_HTTP_TIMEOUT_SECONDS", defaults.http_timeout_seconds, 0.1),
            progress_seconds=number("SONGGEN_PROGRESS_SECONDS", defaults.progress_seconds),
        )
        if errors:
            raise ConfigError("invalid configuration:\n  " + "\n  ".join(errors))
        return settings

    def describe(self) -> str:
        idle = f"{self.idle_stop_seconds / 60:g} min" if self.idle_stop_seconds > 0 else "off"
        return (
            f"data={self.data_dir} app={self.app_dir} models={','.join(self.models) or 'none'} "
            f"port={self.port} idle-stop={idle} hf={self.hf_endpoint} revision={self.revision} "
            f"token={'set' if self.hf_token else 'unset'}"
        )


def parse_models(raw: str, errors: list[str]) -> tuple[str, ...]:
    wanted: list[str] = []
    names = {short: model_id for model_id, (_, short) in MODELS.items()}
    for token in raw.replace(" ", ",").split(","):
        item = token.strip().lower()
        if not item or item == "none":
            continue
        model_id = names.get(item) or names.get(item.replace("_", "-"))
        if model_id is None and item in MODELS:
            model_id = item
        if model_id is None:
            valid = ", ".join(short for _, short in MODELS.values())
            errors.append(f"SONGGEN_MODELS: unknown model {token.strip()!r} (known: {valid}, or none)")
        elif model_id not in wanted:
            wanted.append(model_id)
    return tuple(wanted)


# --------------------------------------------------------------------------------------------------
# Hugging Face client (tree API + resolve endpoint, no third-party code)
# --------------------------------------------------------------------------------------------------


class HubError(Exception):
    """A request to Hugging Face failed for good (a wrong repo, revision or token)."""


class TransientError(Exception):
    """A request failed in a way a retry may fix (connection lost, timeout, 5xx, 429)."""


class StopRequestedError(Exception):
    """The entrypoint was asked to stop while it was working."""


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


# --------------------------------------------------------------------------------------------------
# Manifests, hashing, progress
# --------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Target:
    """One Hugging Face repo and where it lives on the volume."""

    name: str  # "runtime" or a model id
    repo: str
    dest: Path
    manifest_path: Path


@dataclasses.dataclass
class Manifest:
    repo: str
    revision: str
    commit: str = ""
    complete: bool = False
    files: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    overlays: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Manifest | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
            return None
        return cls(
            repo=str(data.get("repo", "")),
            revision=str(data.get("revision", "")),
            commit=str(data.get("commit", "")),
            complete=bool(data.get("complete", False)),
            files={str(k): dict(v) for k, v in dict(data.get("files", {})).items()},
            overlays={str(k): dict(v) for k, v in dict(data.get("overlays", {})).items()},
        )

    def save(self, path: Path) -> None:
        data = {
            "format": MANIFEST_FORMAT,
            "repo": self.repo,
            "revision": self.revision,
            "commit": self.commit,
            "complete": self.complete,
            "updated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),  # noqa: UP017 - must run on 3.10
            "files": dict(sorted(self.files.items())),
            "overlays": dict(sorted(self.overlays.items())),
        }
        atomic_write(path, json.dumps(data, indent=1) + "\n")

    def total_bytes(self) -> int:
        return sum(int(entry.get("size", 0)) for entry in self.files.values())


def atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class _Hasher:
    """sha256 of the content, or the git blob id (sha1 over a 'blob <size>' header)."""

    def __init__(self, expected: RemoteFile) -> None:
        self.kind = "sha256" if expected.sha256 else ("git_sha1" if expected.git_oid else "size")
        if self.kind == "git_sha1":
            self._h = hashlib.sha1(f"blob {expected.size}\0".encode(), usedforsecurity=False)
        else:
            self._h = hashlib.sha256()
        self.expected = expected.sha256 or expected.git_oid or ""

    def update(self, data: bytes) -> None:
        self._h.update(data)

    def matches(self) -> bool:
        return self.kind == "size" or self._h.hexdigest() == self.expected

    def hexdigest(self) -> str:
        return self._h.hexdigest()


def hash_file(path: Path, hasher: _Hasher, stop: threading.Event | None = None) -> int:
    count = 0
    with open(path, "rb") as handle:
        while True:
            if stop is not None and stop.is_set():
                raise StopRequestedError
            block = handle.read(CHUNK)
            if not block:
                return count
            hasher.update(block)
            count += len(block)


def verify_local(path: Path, expected: RemoteFile, stop: threading.Event | None = None) -> tuple[bool, str]:
    try:
        size = path.stat().st_size
    except OSError:
        return False, "missing"
    if size != expected.size:
        return False, f"size {size}, expected {expected.size}"
    hasher = _Hasher(expected)
    hash_file(path, hasher, stop)
    if not hasher.matches():
        return False, f"{hasher.kind} {hasher.hexdigest()[:12]}..., expected {hasher.expected[:12]}..."
    return True, "ok"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


class Progress:
    """Throttled progress lines: bytes, percent, rate, for the file and for the whole fill."""

    def __init__(self, total: int, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.total = max(total, 0)
        self.done = 0
        self.interval = interval
        self._clock = clock
        self._start = clock()
        self._last = self._start

    def advance(self, label: str, file_done: int, file_total: int, nbytes: int, force: bool = False) -> None:
        self.done += nbytes
        now = self._clock()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        elapsed = max(now - self._start, 1e-6)
        rate = self.done / elapsed
        pct = 100.0 * file_done / file_total if file_total else 100.0
        overall = f"{100.0 * self.done / self.total:.1f}%" if self.total else "-"
        eta = f", about {int((self.total - self.done) / rate)} s left" if rate > 0 and self.total else ""
        log(
            f"downloading {label}: {human(file_done)} / {human(file_total)} ({pct:.1f}%) "
            f"at {human(rate)}/s; all: {human(self.done)} / {human(self.total)} ({overall}){eta}"
        )


# --------------------------------------------------------------------------------------------------
# Filling the volume
# --------------------------------------------------------------------------------------------------


class InsufficientSpaceError(Exception):
    """The volume cannot hold what has to be downloaded."""


@dataclasses.dataclass
class Plan:
    target: Target
    manifest: Manifest
    files: list[RemoteFile]
    needed: int


def free_space(path: Path) -> tuple[int, int]:
    """(free bytes, total bytes) of the filesystem holding path."""
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize, stats.f_blocks * stats.f_frsize


class Filler:
    """Makes the volume hold verified copies of the runtime bundle and the wanted models."""

    def __init__(
        self,
        settings: Settings,
        stop: threading.Event | None = None,
        free_bytes: Callable[[Path], tuple[int, int]] | None = None,
    ) -> None:
        self.settings = settings
        self.stop = stop or threading.Event()
        self.client = HubClient(settings.hf_endpoint, settings.hf_token, settings.http_timeout_seconds)
        self._free_bytes = free_bytes or self._default_free_bytes
        self.downloaded_bytes = 0

    def _default_free_bytes(self, path: Path) -> tuple[int, int]:
        free, total = free_space(path)
        if self.settings.assume_free_bytes is not None:
            return self.settings.assume_free_bytes, max(total, self.settings.assume_free_bytes)
        return free, total

    # ---- targets and the offline check ----

    def targets(self) -> list[Target]:
        s = self.settings
        manifests = s.data_dir / ".songgen" / "manifests"
        found = [Target("runtime", s.runtime_repo, s.data_dir / "runtime", manifests / "runtime.json")]
        for model_id in s.models:
            repo = MODELS[model_id][0]
            found.append(
                Target(model_id, repo, s.data_dir / "models" / model_id, manifests / f"{model_id}.json")
            )
        return found

    def cached(self, target: Target) -> Manifest | None:
        """The manifest if the local copy is complete; reads only the disk, never the network."""
        manifest = Manifest.load(target.manifest_path)
        if manifest is None or not manifest.complete:
            return None
        if manifest.repo != target.repo or manifest.revision != self.settings.revision:
            return None
        for path, entry in manifest.files.items():
            expected = manifest.overlays.get(path, entry)
            local = target.dest / path
            try:
                if local.stat().st_size != int(expected.get("size", -1)):
                    return None
            except OSError:
                return None
            if self.settings.verify == "full" and not self._content_matches(local, path, entry, manifest):
                log(f"{target.name}: {path} does not match its manifest; it will be fetched again")
                return None
        return manifest

    def _content_matches(self, local: Path, path: str, entry: Mapping[str, Any], manifest: Manifest) -> bool:
        overlay = manifest.overlays.get(path)
        if overlay is not None:
            return file_sha256(local) == overlay.get("sha256")
        remote = RemoteFile(path, int(entry["size"]), entry.get("sha256"), entry.get("git_sha1"))
        return verify_local(local, remote, self.stop)[0]

    # ---- planning ----

    def plan(self, target: Target) -> Plan:
        commit = self.client.resolve_revision(target.repo, self.settings.revision)
        files = self.client.list_files(target.repo, commit)
        old = Manifest.load(target.manifest_path)
        manifest = Manifest(target.repo, self.settings.revision, commit)
        if old is not None and old.repo == target.repo:
            # Entries verified earlier stay trusted while the remote file and local size are unchanged.
            manifest.files = {
                p: e for p, e in old.files.items() if any(p == f.path and e == f.expected() for f in files)
            }
            manifest.overlays = dict(old.overlays)
        needed = 0
        for remote in files:
            local = target.dest / remote.path
            part = partial_path(local)
            if local.exists():
                continue  # verified (or replaced in place) during the fill; space is already taken
            have = part.stat().st_size if part.exists() else 0
            needed += max(remote.size - have, 0)
        return Plan(target, manifest, files, needed)

    def check_space(self, plans: Sequence[Plan]) -> None:
        needed = sum(p.needed for p in plans)
        if needed == 0:
            return
        free, total = self._free_bytes(self.settings.data_dir)
        margin = self.settings.free_space_margin_bytes
        if needed + margin <= free:
            log(f"space: {human(needed)} to download, {human(free)} free on {self.settings.data_dir}")
            return
        shortfall = needed + margin - free
        suggested = -(-(total + shortfall) // GB)  # round up to whole GB
        parts = ", ".join(f"{p.target.name} {human(p.needed)}" for p in plans if p.needed)
        raise InsufficientSpaceError(
            f"not enough space on the volume at {self.settings.data_dir}: need {human(needed)} "
            f"({parts}) plus a {human(margin)} margin, but only {human(free)} is free "
            f"(volume size {human(total)}). Raise the stack's volume size to at least {suggested} GB "
            f"(a Fly volume grows in place and never shrinks), or keep fewer models in SONGGEN_MODELS. "
            f"Nothing was downloaded."
        )

    # ---- the whole fill ----

    def run(self) -> list[Manifest]:
        ready: list[Manifest] = []
        plans: list[Plan] = []
        for target in self.targets():
            manifest = self.cached(target)
            if manifest is not None:
                log(
                    f"{target.name}: complete on the volume ({len(manifest.files)} files, "
                    f"{human(manifest.total_bytes())}); nothing to fetch"
                )
                ready.append(manifest)
                continue
            log(
                f"{target.name}: checking {target.repo}@{self.settings.revision} on {self.settings.hf_endpoint}"
            )
            plans.append(self.plan_with_retries(target))
        if not plans:
            return ready
        self.check_space(plans)
        progress = Progress(sum(p.needed for p in plans), self.settings.progress_seconds)
        for plan in plans:
            self.fill(plan, progress)
            ready.append(plan.manifest)
        log(f"fill done: {human(self.downloaded_bytes)} downloaded")
        return ready

    def plan_with_retries(self, target: Target) -> Plan:
        return self._retrying(f"{target.name}: listing {target.repo}", lambda: self.plan(target))

    def _retrying(self, what: str, action: Callable[[], _T]) -> _T:
        delay = self.settings.retry_base_seconds
        for attempt in range(1, self.settings.retries + 1):
            if self.stop.is_set():
                raise StopRequestedError
            try:
                return action()
            except TransientError as err:
                if attempt == self.settings.retries:
                    raise HubError(f"{what}: giving up after {attempt} attempts: {err}") from None
                log(f"{what}: {err}; retrying in {delay:g} s (attempt {attempt + 1}/{self.settings.retries})")
                if self.stop.wait(delay):
                    raise StopRequestedError from None
                delay = min(delay * 2, 60.0)
        raise AssertionError("unreachable")

    def fill(self, plan: Plan, progress: Progress) -> None:
        target, manifest = plan.target, plan.manifest
        target.dest.mkdir(parents=True, exist_ok=True)
        manifest.complete = False
        manifest.save(target.manifest_path)
        for remote in plan.files:
            if self.stop.is_set():
                raise StopRequestedError
            self.ensure_file(target, manifest, remote, progress)
        manifest.complete = True
        manifest.save(target.manifest_path)
        log(
            f"{target.name}: complete ({len(manifest.files)} files, {human(manifest.total_bytes())}), verified"
        )

    def ensure_file(self, target: Target, manifest: Manifest, remote: RemoteFile, progress: Progress) -> None:
        local = target.dest / remote.path
        label = f"{target.name}:{remote.path}"
        trusted = manifest.files.get(remote.path) == remote.expected()
        overlay = manifest.overlays.get(remote.path)
        if local.exists():
            size = local.stat().st_size
            if (
                trusted
                and self.settings.verify == "size"
                and size == int((overlay or remote.expected())["size"])
            ):
                return
            if (
                overlay is not None
                and size == overlay.get("size")
                and file_sha256(local) == overlay.get("sha256")
            ):
                manifest.files[remote.path] = remote.expected()
                return
            ok, why = verify_local(local, remote, self.stop)
            if ok:
                manifest.files[remote.path] = remote.expected()
                manifest.save(target.manifest_path)
                return
            log(f"{label}: local copy is corrupt ({why}); fetching it again")
            local.unlink()
        manifest.files.pop(remote.path, None)
        local.parent.mkdir(parents=True, exist_ok=True)
        self._retrying(label, lambda: self.download(target, manifest.commit, remote, local, progress))
        manifest.files[remote.path] = remote.expected()
        manifest.save(target.manifest_path)

    def download(
        self, target: Target, commit: str, remote: RemoteFile, local: Path, progress: Progress
    ) -> None:
        """One attempt: resume local's partial file, verify it, move it into place."""
        part = partial_path(local)
        label = f"{target.name}:{remote.path}"
        have = part.stat().st_size if part.exists() else 0
        if have > remote.size:
            part.unlink()
            have = 0
        hasher = _Hasher(remote)
        if have:
            hash_file(part, hasher, self.stop)
        if have < remote.size:
            url = self.client.file_url(target.repo, commit, remote.path)
            headers = {"Range": f"bytes={have}-"} if have else None
            if have:
                log(f"{label}: resuming at {human(have)} of {human(remote.size)}")
            response = self.client.open(url, headers)
            with response:
                status = response.status
                if status == 416:
                    part.unlink(missing_ok=True)
                    raise TransientError("the server refused the resume range; starting the file over")
                if have and status != 206:
                    have = 0  # the server ignored the range: start over
                    hasher = _Hasher(remote)
                elif status == 206 and not _range_starts_at(response.headers.get("Content-Range"), have):
                    raise TransientError(f"unexpected Content-Range {response.headers.get('Content-Range')}")
                mode = "ab" if have else "wb"
                with open(part, mode) as out:
                    done = have
                    while done < remote.size:
                        if self.stop.is_set():
                            raise StopRequestedError
                        try:
                            block = response.read(min(CHUNK, remote.size - done))
                        except (OSError, http.client.HTTPException) as err:
                            raise TransientError(
                                f"connection lost at {human(done)}: {type(err).__name__}"
                            ) from None
                        if not block:
                            raise TransientError(
                                f"connection closed at {human(done)} of {human(remote.size)}"
                            )
                        out.write(block)
                        hasher.update(block)
                        done += len(block)
                        self.downloaded_bytes += len(block)
                        progress.advance(label, done, remote.size, len(block))
                    out.flush()
                    os.fsync(out.fileno())
        if not hasher.matches():
            part.unlink(missing_ok=True)
            raise TransientError(f"{hasher.kind} mismatch after download ({hasher.hexdigest()[:12]}...)")
        os.replace(part, local)
        progress.advance(label, remote.size, remote.size, 0, force=True)


def partial_path(local: Path) -> Path:
    return local.with_name(local.name + ".part")


def _range_starts_at(content_range: str | None, offset: int) -> bool:
    match = re.match(r"bytes (\d+)-", content_range or "")
    return bool(match) and int(match.group(1)) == offset  # type: ignore[union-attr]


# --------------------------------------------------------------------------------------------------
# Volume layout, overlays, privileges
# --------------------------------------------------------------------------------------------------


def link(link_path: Path, target: Path) -> None:
    """Make link_path a symlink to target, moving anything the image had there onto the volume."""
    if link_path.is_symlink():
        if os.readlink(link_path) == str(target):
            return
        link_path.unlink()
    elif link_path.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        for child in link_path.iterdir():
            dest = target / child.name
            if not dest.exists():
                shutil.move(str(child), str(dest))
        shutil.rmtree(link_path)
    elif link_path.exists():
        if not target.exists():
            shutil.move(str(link_path), str(target))
        else:
            link_path.unlink()
    link_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = link_path.with_name(f".{link_path.name}.link")
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(target, tmp)
    os.replace(tmp, link_path)


def lay_out(settings: Settings) -> None:
    data, app = settings.data_dir, settings.app_dir
    if not app.is_dir():
        raise ConfigError(f"SONGGEN_APP_DIR={app} is not a directory")
    for sub in ("runtime", "models", "cache", ".songgen/manifests", *[f"runtime/{d}" for d in RUNTIME_DIRS]):
        (data / sub).mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_DIRS:
        link(app / name, data / "runtime" / name)
    for model_id in MODELS:
        (data / "models" / model_id).mkdir(exist_ok=True)
        link(app / model_id, data / "models" / model_id)
    for name, is_dir in STATE_ENTRIES.items():
        target = data / name
        if is_dir:
            target.mkdir(exist_ok=True)
        link(app / name, target)
        if not is_dir and name in STATE_DEFAULTS and not target.exists():
            target.write_text(STATE_DEFAULTS[name], encoding="utf-8")
    log(f"volume laid out at {data} and linked into {app}")


def apply_overlays(settings: Settings, filler: Filler) -> None:
    """Lay the Studio's patched files over the runtime bundle (they patch files the bundle ships)."""
    root = settings.overlay_dir
    if not root.is_dir():
        return
    runtime = next(t for t in filler.targets() if t.name == "runtime")
    manifest = Manifest.load(runtime.manifest_path)
    for source in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = source.relative_to(root).as_posix()
        dest = runtime.dest / rel
        if not dest.parent.is_dir():
            log(f"overlay {rel}: the runtime bundle has no {PurePosixPath(rel).parent}/ yet; skipped")
            continue
        digest = file_sha256(source)
        if not dest.exists() or file_sha256(dest) != digest:
            tmp = dest.with_name(f".{dest.name}.overlay")
            shutil.copyfile(source, tmp)
            os.replace(tmp, dest)
            log(f"overlay {rel}: applied the Studio's patched copy")
        if manifest is not None:
            manifest.overlays[rel] = {"size": source.stat().st_size, "sha256": digest}
    if manifest is not None:
        manifest.save(runtime.manifest_path)


def mark_models_verified(settings: Settings, manifests: Sequence[Manifest]) -> None:
    """Record the models we verified in the Studio's own verified_models.json (saves it an HF call)."""
    path = settings.data_dir / "verified_models.json"
    try:
        current = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    except (OSError, ValueError):
        log(f"{path} is not valid JSON; leaving it alone")
        return
    if not isinstance(current, dict):
        return
    changed = False
    repos = {repo: model_id for model_id, (repo, _) in MODELS.items()}
    for manifest in manifests:
        model_id = repos.get(manifest.repo)
        if model_id is None or not manifest.complete:
            continue
        for weights in ("model.pt", "model.safetensors"):
            entry = manifest.files.get(weights)
            if entry is None:
                continue
            known = current.get(model_id)
            if not isinstance(known, dict) or known.get("model_pt_size") != entry["size"]:
                current[model_id] = {
                    "verified": True,
                    "model_pt_size": entry["size"],
                    "verified_at": datetime.now().isoformat(),
                }
                changed = True
            break
    if changed:
        atomic_write(path, json.dumps(current, indent=2) + "\n")


def drop_privileges(settings: Settings) -> None:
    """When started as root, give the volume to the runtime user and become that user."""
    if not settings.run_as or not hasattr(os, "geteuid") or os.geteuid() != 0:
        return
    import pwd  # POSIX only

    try:
        user = pwd.getpwnam(settings.run_as)
    except KeyError:
        log(f"user {settings.run_as!r} does not exist; staying root")
        return
    data = settings.data_dir
    data.mkdir(parents=True, exist_ok=True)
    if data.stat().st_uid != user.pw_uid:
        log(f"handing {data} to {settings.run_as} (first boot on this volume)")
        for root, dirs, files in os.walk(data):
            for name in [*dirs, *files]:
                os.lchown(os.path.join(root, name), user.pw_uid, user.pw_gid)
        os.chown(data, user.pw_uid, user.pw_gid)
    os.setgroups([])
    os.setgid(user.pw_gid)
    os.setuid(user.pw_uid)
    os.environ["HOME"] = user.pw_dir
    os.environ["USER"] = user.pw_name


# --------------------------------------------------------------------------------------------------
# The Studio process, signals and the idle stop
# --------------------------------------------------------------------------------------------------

_ACCESS_LOG = re.compile(
    r'^(?:INFO:\s+)?(?P<client>\S+):(?P<port>\d+) - "(?P<method>[A-Z]+) (?P<path>\S+)[^"]*" (?P<status>\d{3})'
)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# The watcher polls from 127.0.0.1; Fly's proxy connects from the machine's private network address.
_WATCHER_CLIENTS = frozenset({"127.0.0.1", "::1", "[::1]", "::ffff:127.0.0.1"})
_WATCHER_PATHS = frozenset({"/api/health", "/api/generations", "/api/queue", "/api/models"})


@dataclasses.dataclass
class Activity:
    """When a user last did something, shared by the log reader and the idle watcher."""

    clock: Callable[[], float] = time.monotonic
    last: float = dataclasses.field(default=0.0)
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.last = self.clock()

    def touch(self) -> None:
        with self.lock:
            self.last = self.clock()

    def idle_for(self) -> float:
        with self.lock:
            return self.clock() - self.last


def classify_log_line(line: str, ignore_paths: Sequence[str]) -> tuple[bool, bool]:
    """(is user activity, is one of our own polls) for one line of the Studio's output."""
    match = _ACCESS_LOG.match(_ANSI.sub("", line).strip())
    if not match:
        return False, False
    client, path = match["client"], match["path"].split("?", 1)[0]
    if client in _WATCHER_CLIENTS:
        return False, path in _WATCHER_PATHS
    return path not in ignore_paths, False


def pump_output(stream: IO[bytes], activity: Activity, ignore_paths: Sequence[str]) -> None:
    """Copy the Studio's output to ours, noting user requests and hiding the watcher's own polls."""
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", "replace")
        user, own_poll = classify_log_line(line, ignore_paths)
        if user:
            activity.touch()
        if not own_poll:
            with _LOG_LOCK:
                sys.stdout.write(line if line.endswith("\n") else line + "\n")
                sys.stdout.flush()
    stream.close()


@dataclasses.dataclass(frozen=True)
class StudioState:
    busy: bool
    reason: str


class StudioAPI:
    """Reads the Studio's own API to learn whether work is running or waiting."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def get(self, path: str) -> Any:
        request = urllib.request.Request(self.base_url + path, headers={"Accept": "application/json"})  # noqa: S310
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
            return json.loads(response.read())

    def healthy(self) -> bool:
        try:
            data = self.get("/api/health")
        except (OSError, ValueError, http.client.HTTPException):
            return False
        return isinstance(data, dict) and data.get("status") == "ok"

    def state(self, include_downloads: bool = False) -> StudioState:
        """Busy unless the Studio positively says nothing runs, waits or downloads."""
        try:
            generations = self.get("/api/generations")
            queue = self.get("/api/queue")
            models = self.get("/api/models") if include_downloads else {"models": []}
        except (OSError, ValueError, http.client.HTTPException) as err:
            return StudioState(True, f"Studio API did not answer ({type(err).__name__}: {err})")
        if not isinstance(generations, list) or not isinstance(queue, list) or not isinstance(models, dict):
            return StudioState(True, "Studio API answered in an unexpected shape")
        for gen in generations:
            status = str(gen.get("status", "")) if isinstance(gen, dict) else ""
            if status in ACTIVE_GENERATION_STATES:
                return StudioState(True, f"generation {gen.get('id', '?')} is {status}")
        if queue:
            return StudioState(True, f"{len(queue)} song(s) waiting in the queue")
        for model in models.get("models", []) or []:
            if isinstance(model, dict) and model.get("status") == "downloading":
                return StudioState(True, f"model {model.get('id', '?')} is downloading")
        return StudioState(False, "nothing running, queued or downloading")


class IdleWatcher(threading.Thread):
    """Sets stop_requested once the Studio has been idle for settings.idle_stop_seconds."""

    def __init__(self, settings: Settings, api: StudioAPI, activity: Activity, stop: threading.Event) -> None:
        super().__init__(name="idle-watcher", daemon=True)
        self.settings = settings
        self.api = api
        self.activity = activity
        self.stop = stop
        self.stop_requested = threading.Event()

    def run(self) -> None:
        poll = self.settings.idle_poll_seconds
        limit = self.settings.idle_stop_seconds
        while not self.stop.is_set() and not self.api.healthy():
            self.stop.wait(min(poll, 2.0))
        self.activity.touch()
        log(f"idle stop armed: the machine stops after {limit / 60:g} idle minutes")
        last_reason = ""
        # /api/models is heavier (it refreshes GPU info), so downloads are only asked about before a
        # stop, and on every poll once one has been seen, until it is over.
        watch_downloads = False
        while not self.stop.wait(poll):
            state = self.api.state(include_downloads=watch_downloads)
            if not state.busy and self.activity.idle_for() >= limit and not watch_downloads:
                state = self.api.state(include_downloads=True)
                watch_downloads = state.busy
            if state.busy:
                if state.reason != last_reason:
                    log(f"busy: {state.reason}")
                    last_reason = state.reason
                self.activity.touch()
                continue
            last_reason = ""
            watch_downloads = False
            if self.activity.idle_for() < limit:
                continue
            log(f"idle for {self.activity.idle_for() / 60:.1f} min ({state.reason}); stopping the machine")
            self.stop_requested.set()
            return


class Supervisor:
    """Runs the Studio, forwards signals to it and decides the exit code."""

    def __init__(self, settings: Settings, stop: threading.Event) -> None:
        self.settings = settings
        self.stop = stop
        self.child: subprocess.Popen[bytes] | None = None
        self.received: int | None = None

    def handle_signal(self, signum: int, _frame: Any) -> None:
        self.received = signum
        self.stop.set()
        child = self.child
        if child is not None and child.poll() is None:
            log(f"received {signal.Signals(signum).name}; passing it to the Studio")
            _signal_group(child, signum)

    def studio_env(self) -> dict[str, str]:
        s = self.settings
        env = dict(os.environ)
        paths = [str(s.app_dir), str(s.app_dir / "codeclm" / "tokenizer" / "Flow1dVAE")]
        if env.get("PYTHONPATH"):
            paths.append(env["PYTHONPATH"])
        env.update(
            {
                "PYTHONPATH": os.pathsep.join(paths),
                "PYTHONUTF8": "1",
                "PYTHONUNBUFFERED": "1",
                "PORT": str(s.port),
            }
        )
        cache = s.data_dir / "cache"
        env.setdefault("HF_HOME", str(cache / "huggingface"))
        env.setdefault("TORCH_HOME", str(cache / "torch"))
        env.setdefault("XDG_CACHE_HOME", str(cache))
        # The image ships no bytecode; compile it once onto the volume and reuse it on later boots.
        env.setdefault("PYTHONPYCACHEPREFIX", str(cache / "pycache"))
        if s.hf_endpoint != "https://huggingface.co":
            env["HF_ENDPOINT"] = s.hf_endpoint
        return env

    def run(self) -> int:
        s = self.settings
        command = [s.python, "main.py", "--host", s.host, "--port", str(s.port)]
        log(f"starting the Studio: {' '.join(command)} (in {s.app_dir})")
        self.child = subprocess.Popen(
            command,
            cwd=s.app_dir,
            env=self.studio_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: signals reach the model server too
        )
        if self.received is not None:  # a signal arrived while we were starting it
            _signal_group(self.child, self.received)
        activity = Activity()
        assert self.child.stdout is not None
        pump = threading.Thread(
            target=pump_output, args=(self.child.stdout, activity, s.idle_ignore_paths), daemon=True
        )
        pump.start()
        watcher: IdleWatcher | None = None
        if s.idle_stop_seconds > 0:
            api = StudioAPI(f"http://127.0.0.1:{s.port}")
            watcher = IdleWatcher(s, api, activity, self.stop)
            watcher.start()
        code = self._wait(watcher)
        pump.join(timeout=5)
        return code

    def _wait(self, watcher: IdleWatcher | None) -> int:
        child = self.child
        assert child is not None
        while True:
            try:
                code = child.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                code = None
            if code is not None:
                self.stop.set()
                if self.received is not None:
                    log(
                        f"the Studio exited ({describe_exit(code)}) after {signal.Signals(self.received).name}"
                    )
                    return exit_code(code)
                if watcher is not None and watcher.stop_requested.is_set():
                    return 0
                log(f"the Studio exited on its own ({describe_exit(code)})")
                return exit_code(code)
            if self.received is not None:
                self._reap(child)
                continue
            if watcher is not None and watcher.stop_requested.is_set():
                log("stopping the Studio (idle)")
                _signal_group(child, signal.SIGTERM)
                self._reap(child)
                self.stop.set()
                log("the Studio stopped; exiting 0 so the machine stays stopped until the next request")
                return 0

    def _reap(self, child: subprocess.Popen[bytes]) -> None:
        try:
            child.wait(timeout=self.settings.stop_grace_seconds)
        except subprocess.TimeoutExpired:
            log(f"the Studio did not stop within {self.settings.stop_grace_seconds:g} s; killing it")
            _signal_group(child, signal.SIGKILL)
            child.wait()


def _signal_group(child: subprocess.Popen[bytes], signum: int) -> None:
    try:
        os.killpg(child.pid, signum)
    except ProcessLookupError:
        pass
    except PermissionError:
        child.send_signal(signum)


def exit_code(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        return f"killed by {signal.Signals(-returncode).name}"
    return f"exit code {returncode}"


# --------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------


def prepare(settings: Settings, stop: threading.Event) -> None:
    lay_out(settings)
    filler = Filler(settings, stop)
    if settings.download:
        manifests = filler.run()
        mark_models_verified(settings, manifests)
    else:
        log("SONGGEN_DOWNLOAD=0: using what the volume holds, fetching nothing")
    apply_overlays(settings, filler)


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Prepare the volume, then run the SongGeneration Studio (configured by environment)."
    )
    parser.add_argument("--prepare-only", action="store_true", help="lay out and fill the volume, then exit")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env(os.environ if env is None else env)
    except ConfigError as err:
        log(str(err))
        return 2
    log(settings.describe())

    stop = threading.Event()
    supervisor = Supervisor(settings, stop)
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, supervisor.handle_signal)

    try:
        drop_privileges(settings)
        prepare(settings, stop)
    except StopRequestedError:
        received = supervisor.received or signal.SIGTERM
        log(f"stopped by {signal.Signals(received).name} while preparing; partial downloads resume next boot")
        return 128 + received
    except InsufficientSpaceError as err:
        log(f"ERROR: {err}")
        return 3
    except (HubError, ConfigError, OSError) as err:
        log(f"ERROR: {err}")
        return 1
    if args.prepare_only:
        return 0
    if supervisor.received is not None:
        return 128 + supervisor.received
    return supervisor.run()


if __name__ == "__main__":
    sys.exit(main())
