"""Filling the volume: verified, resumable downloads of the runtime bundle and the wanted models."""

from __future__ import annotations

import dataclasses
import http.client
import os
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from .checksums import CHUNK, Hasher, file_sha256, hash_file, verify_local
from .config import MODELS, Settings
from .console import GB, human, log
from .errors import HubError, InsufficientSpaceError, StopRequestedError, TransientError
from .hub import HubClient, RemoteFile
from .manifest import Manifest, Target
from .progress import Progress

_T = TypeVar("_T")


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
        hasher = Hasher(remote)
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
                    hasher = Hasher(remote)
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
