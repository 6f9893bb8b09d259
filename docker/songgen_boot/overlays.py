"""The Studio's patched files, laid over the runtime bundle on the volume at every boot."""

from __future__ import annotations

import os
import shutil
from pathlib import Path, PurePosixPath

from .checksums import file_sha256
from .config import Settings
from .console import log
from .fill import Filler
from .manifest import Manifest


def overlay_files(root: Path) -> dict[str, Path]:
    """The patched files under root, by their path relative to the runtime bundle."""
    if not root.is_dir():
        return {}
    return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*")) if p.is_file()}


def apply_overlays(settings: Settings, filler: Filler) -> None:
    """Lay the Studio's patched files over the runtime bundle (they patch files the bundle ships)."""
    files = overlay_files(settings.overlay_dir)
    if not files:
        return
    runtime = next(t for t in filler.targets() if t.name == "runtime")
    manifest = Manifest.load(runtime.manifest_path)
    for rel, source in files.items():
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
