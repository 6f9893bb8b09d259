"""A writable stand-in for a read-only tree: real directories only where files are replaced, links elsewhere.

The runtime bundle mounted read-only cannot take the Studio's patched files. The farm is built in
the container's own filesystem: a real directory for each directory on the way to a replaced file,
a symlink into the mount for every other entry, and the replaced files as real copies. Nothing is
ever opened for writing under the mount, and only the few directories on those paths are listed.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from .console import log


def build_link_farm(source: Path, farm: Path, replacements: Mapping[str, Path]) -> dict[str, Path]:
    """Make farm mirror source, with each relative path in replacements a real copy of its file.

    A replacement whose directory the source lacks is skipped (as the volume overlay skips it).
    The farm is built beside its final place and swapped in, so a broken boot leaves no half farm.
    Returns the replacements applied.
    """
    applied: dict[str, Path] = {}
    for rel, file in replacements.items():
        if (source / PurePosixPath(rel).parent).is_dir():
            applied[rel] = file
        else:
            log(f"overlay {rel}: {source} has no {PurePosixPath(rel).parent}/; skipped")
    building = farm.with_name(f".{farm.name}.building")
    _remove(building)
    _populate(source, building, applied)
    old = farm.with_name(f".{farm.name}.old")
    _remove(old)
    if farm.is_symlink() or farm.exists():
        os.replace(farm, old)
    os.replace(building, farm)
    _remove(old)
    return applied


def _populate(source: Path, dest: Path, replacements: Mapping[str, Path]) -> None:
    """dest as a real directory: its entries link into source, except those on a replacement's path."""
    dest.mkdir(parents=True)
    here: dict[str, Path] = {}  # entry name -> replacement file, for files directly in this directory
    below: dict[str, dict[str, Path]] = {}  # entry name -> the replacements under that directory
    for rel, file in replacements.items():
        head, _, rest = rel.partition("/")
        if rest:
            below.setdefault(head, {})[rest] = file
        else:
            here[head] = file
    with os.scandir(source) as entries:
        names = sorted(entry.name for entry in entries)
    for name in names:
        if name not in here and name not in below:
            os.symlink(source / name, dest / name)
    for name, nested in below.items():
        _populate(source / name, dest / name, nested)
    for name, file in here.items():
        shutil.copyfile(file, dest / name)


def _remove(path: Path) -> None:
    """Remove a farm (real dirs, symlinks and copies); symlinks are unlinked, never followed."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)
