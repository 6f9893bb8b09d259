"""SONGGEN_COPY_MODELS=1: the chosen models copied from their read-only mounts to local disk, verified.

The Studio re-reads model.pt (11-20 GB) for every song, and a mounted repo's read throughput is not
known, so a deployment may trade boot time for the disk's speed. Each file is streamed to
``<name>.part`` while its sha256 is taken, the written copy is read back and must give the same size
and digest, and only then is it renamed into place. A manifest per model (``SONGGEN_LOCAL_DIR/manifests``)
lets a restart on the same disk keep what is already copied.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import threading
from collections.abc import Callable
from pathlib import Path

from .checksums import file_sha256
from .config import MODELS, Settings
from .console import human, log
from .errors import InsufficientSpaceError, StopRequestedError, WeightsError
from .fill import free_space
from .manifest import Manifest
from .progress import Progress

COPY_CHUNK = 8 * 1024 * 1024
MOUNT_REVISION = "mount"  # the manifest's revision field: what was copied came from a mount


@dataclasses.dataclass(frozen=True)
class SourceFile:
    rel: str
    size: int
    mtime_ns: int


@dataclasses.dataclass
class CopyPlan:
    model_id: str
    source: Path
    dest: Path
    manifest_path: Path
    manifest: Manifest
    files: list[SourceFile]
    needed: int


def stream_copy(
    source: Path, part: Path, stop: threading.Event, on_block: Callable[[int], None]
) -> tuple[int, str]:
    """Copy source to part; (bytes copied, sha256 of what was read)."""
    digest = hashlib.sha256()
    copied = 0
    with open(source, "rb") as reader, open(part, "wb") as writer:
        while True:
            if stop.is_set():
                raise StopRequestedError
            block = reader.read(COPY_CHUNK)
            if not block:
                break
            writer.write(block)
            digest.update(block)
            copied += len(block)
            on_block(len(block))
        writer.flush()
        os.fsync(writer.fileno())
    return copied, digest.hexdigest()


class ModelCopier:
    """Makes SONGGEN_LOCAL_DIR/models hold verified copies of the chosen mounted models."""

    def __init__(
        self,
        settings: Settings,
        stop: threading.Event,
        free_bytes: Callable[[Path], tuple[int, int]] = free_space,
    ) -> None:
        assert settings.weights_dir is not None
        self.settings = settings
        self.stop = stop
        self.weights = settings.weights_dir
        self._free_bytes = free_bytes

    def run(self) -> dict[str, Manifest]:
        """model id -> the manifest of its verified local copy."""
        plans = [self.plan(model_id) for model_id in self.settings.models]
        self.check_space(plans)
        progress = Progress(sum(p.needed for p in plans), self.settings.progress_seconds, verb="copying")
        for plan in plans:
            self.copy(plan, progress)
        return {plan.model_id: plan.manifest for plan in plans}

    def plan(self, model_id: str) -> CopyPlan:
        source = self.weights / "models" / model_id
        local = self.settings.local_dir
        manifest_path = local / "manifests" / f"{model_id}.json"
        repo = MODELS[model_id][0]
        old = Manifest.load(manifest_path)
        manifest = Manifest(repo, MOUNT_REVISION)
        files = list_files(source)
        dest = local / "models" / model_id
        needed = 0
        for file in files:
            entry = old.files.get(file.rel) if old is not None and old.repo == repo else None
            if entry is not None and self._still_good(dest / file.rel, file, entry):
                manifest.files[file.rel] = entry
            else:
                needed += file.size
        return CopyPlan(model_id, source, dest, manifest_path, manifest, files, needed)

    def _still_good(self, copy: Path, file: SourceFile, entry: dict[str, object]) -> bool:
        if entry.get("size") != file.size or entry.get("source_mtime_ns") != file.mtime_ns:
            return False
        try:
            if copy.stat().st_size != file.size:
                return False
        except OSError:
            return False
        return self.settings.verify != "full" or file_sha256(copy) == entry.get("sha256")

    def check_space(self, plans: list[CopyPlan]) -> None:
        needed = sum(p.needed for p in plans)
        if needed == 0:
            return
        local = self.settings.local_dir
        local.mkdir(parents=True, exist_ok=True)
        free, _ = self._free_bytes(local)
        margin = self.settings.free_space_margin_bytes
        if needed + margin <= free:
            log(f"copy: {human(needed)} to copy from {self.weights}, {human(free)} free on {local}")
            return
        raise InsufficientSpaceError(
            f"not enough space in SONGGEN_LOCAL_DIR={local} to copy the models: need {human(needed)} "
            f"plus a {human(margin)} margin, but only {human(free)} is free. Use a machine with a larger "
            f"disk, fewer models in SONGGEN_MODELS, or read them from the mount (SONGGEN_COPY_MODELS=0)."
        )

    def copy(self, plan: CopyPlan, progress: Progress) -> None:
        if plan.needed == 0:
            log(f"{plan.model_id}: local copy complete and unchanged; nothing to copy")
        plan.manifest.complete = False
        plan.manifest.save(plan.manifest_path)
        for file in plan.files:
            if file.rel in plan.manifest.files:
                continue
            plan.manifest.files[file.rel] = self.copy_file(plan, file, progress)
            plan.manifest.save(plan.manifest_path)
        plan.manifest.complete = True
        plan.manifest.save(plan.manifest_path)
        if plan.needed:
            log(
                f"{plan.model_id}: copied to {plan.dest} ({len(plan.files)} files, "
                f"{human(plan.manifest.total_bytes())}), verified"
            )

    def copy_file(self, plan: CopyPlan, file: SourceFile, progress: Progress) -> dict[str, object]:
        """Copy one file with retries; every attempt is verified before the copy is kept."""
        source, dest = plan.source / file.rel, plan.dest / file.rel
        label = f"{plan.model_id}:{file.rel}"
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(dest.name + ".part")
        delay = self.settings.retry_base_seconds
        for attempt in range(1, self.settings.retries + 1):
            done = 0

            def advance(nbytes: int) -> None:
                nonlocal done
                done += nbytes
                progress.advance(label, done, file.size, nbytes)

            try:
                copied, digest = stream_copy(source, part, self.stop, advance)
                problem = verify_copy(part, file.size, copied, digest)
            except OSError as err:
                problem = f"{type(err).__name__}: {err}"
                digest = ""
            if problem is None:
                os.replace(part, dest)
                progress.advance(label, file.size, file.size, 0, force=True)
                return {"size": file.size, "sha256": digest, "source_mtime_ns": file.mtime_ns}
            part.unlink(missing_ok=True)
            progress.done -= done  # this attempt's bytes are counted again by the next one
            if attempt == self.settings.retries:
                raise WeightsError(f"{label}: could not copy it from {source}: {problem}")
            log(f"{label}: {problem}; copying it again in {delay:g} s")
            if self.stop.wait(delay):
                raise StopRequestedError
            delay = min(delay * 2, 60.0)
        raise AssertionError("unreachable")


def verify_copy(part: Path, expected_size: int, copied: int, digest: str) -> str | None:
    """None if the copy on disk has the source's size and the digest read from the source."""
    size = part.stat().st_size
    if copied != expected_size or size != expected_size:
        return f"copied {copied} bytes and wrote {size}, the source has {expected_size}"
    written = file_sha256(part)
    if written != digest:
        return f"the copy reads back as sha256 {written[:12]}..., the source gave {digest[:12]}..."
    return None


def list_files(root: Path) -> list[SourceFile]:
    """Every file under a mounted model, relative to it."""
    if not root.is_dir():
        raise WeightsError(f"{root} is not a directory")
    found: list[SourceFile] = []
    for directory, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            path = Path(directory) / name
            stat = path.stat()
            found.append(SourceFile(path.relative_to(root).as_posix(), stat.st_size, stat.st_mtime_ns))
    return found
