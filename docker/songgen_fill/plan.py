"""What a repo still needs: its commit and files, which of them the volume already holds, the room to fetch the rest.

A file on the volume is kept without hashing it when the manifest recorded it for this very content and
its size still matches (``SONGGEN_VERIFY=size``); when the Studio's patched copy replaced it (an
overlay in the manifest); or, failing both, when it hashes to what the repo lists (a file the Studio's
UI downloaded, a volume whose manifest was lost). Anything else is fetched, continuing whatever an
earlier boot left of it.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from songgen_boot.checksums import file_sha256, verify_local
from songgen_boot.console import GB, human, log
from songgen_boot.errors import InsufficientSpaceError
from songgen_boot.filljob import FillJob, incomplete_dir
from songgen_boot.manifest import Manifest, Target

from .partial import PartialFile
from .remote import Remote, RemoteFile
from .transfer import FileFetch

FreeBytes = Callable[[Path], tuple[int, int]]


@dataclasses.dataclass
class TargetPlan:
    target: Target
    manifest: Manifest  # at the commit being fetched; holds the files verified so far
    fetches: list[FileFetch]

    @property
    def needed(self) -> int:
        """Bytes still to download (what earlier boots left is not counted again)."""
        return sum(f.size - f.partial.done for f in self.fetches)


def legacy_partial(local: Path) -> Path:
    """Where the entrypoint before this one kept an interrupted download: next to the file."""
    return local.with_name(local.name + ".part")


def plan_target(target: Target, job: FillJob, remote: Remote, stop: threading.Event) -> TargetPlan:
    commit = remote.commit(target.repo, job.revision)
    files = remote.files(target.repo, commit)
    old = Manifest.load(target.manifest_path)
    same_repo = old is not None and old.repo == target.repo
    manifest = Manifest(target.repo, job.revision, commit)
    if old is not None and same_repo:
        manifest.overlays = dict(old.overlays)
    trusted = old.files if old is not None and same_repo else {}
    incomplete = incomplete_dir(job.data_dir) / target.name
    fetches: list[FileFetch] = []
    for file in files:
        local = target.dest / file.path
        if already_there(target, file, local, trusted, manifest.overlays, job.verify, stop):
            manifest.files[file.path] = file.expected.entry()
            continue
        partial = PartialFile.load(incomplete / file.path, file.expected, legacy_partial(local))
        fetches.append(FileFetch(target, commit, file, partial, local))
    return TargetPlan(target, manifest, fetches)


def already_there(
    target: Target,
    file: RemoteFile,
    local: Path,
    trusted: Mapping[str, Mapping[str, Any]],
    overlays: Mapping[str, Mapping[str, Any]],
    verify: str,
    stop: threading.Event,
) -> bool:
    """Whether the volume holds this file already (a corrupt copy is removed, to be fetched again)."""
    try:
        size = local.stat().st_size
    except OSError:
        return False
    overlay = overlays.get(file.path)
    recorded = trusted.get(file.path) == file.expected.entry()
    if recorded and verify == "size" and size == int((overlay or file.expected.entry())["size"]):
        return True
    if overlay is not None and size == overlay.get("size") and file_sha256(local) == overlay.get("sha256"):
        return True
    ok, why = verify_local(local, file.expected, stop)
    if ok:
        return True
    log(f"{target.name}:{file.path}: local copy is corrupt ({why}); fetching it again")
    local.unlink()
    return False


def check_space(plans: Sequence[TargetPlan], job: FillJob, free_bytes: FreeBytes) -> None:
    """Stop before the first byte if what is missing does not fit, saying what volume size would."""
    needed = sum(p.needed for p in plans)
    if needed == 0:
        return
    free, total = free_bytes(job.data_dir)
    if job.assume_free_bytes is not None:
        free, total = job.assume_free_bytes, max(total, job.assume_free_bytes)
    margin = job.free_space_margin_bytes
    if needed + margin <= free:
        log(f"space: {human(needed)} to download, {human(free)} free on {job.data_dir}")
        return
    shortfall = needed + margin - free
    suggested = -(-(total + shortfall) // GB)  # round up to whole GB
    parts = ", ".join(f"{p.target.name} {human(p.needed)}" for p in plans if p.needed)
    raise InsufficientSpaceError(
        f"not enough space on the volume at {job.data_dir}: need {human(needed)} "
        f"({parts}) plus a {human(margin)} margin, but only {human(free)} is free "
        f"(volume size {human(total)}). Raise the stack's volume size to at least {suggested} GB "
        f"(a Fly volume grows in place and never shrinks), or keep fewer models in SONGGEN_MODELS. "
        f"Nothing was downloaded."
    )
