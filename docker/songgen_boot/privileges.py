"""Started as root: hand the volume to the runtime user and become that user."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from .config import Settings
from .console import log

if TYPE_CHECKING:
    import pwd


def drop_privileges(settings: Settings) -> None:
    """When started as root, give the writable dirs to the runtime user and become that user.

    Started as anyone else (Spaces runs the image as uid 1000) this does nothing: every path the
    entrypoint writes is then expected to be writable already (the image gives them to uid 1000).
    """
    if not settings.run_as or not hasattr(os, "geteuid") or os.geteuid() != 0:
        return
    import pwd  # POSIX only

    try:
        user = pwd.getpwnam(settings.run_as)
    except KeyError:
        log(f"user {settings.run_as!r} does not exist; staying root")
        return
    for path in writable_dirs(settings):
        _hand_over(path, user, settings.run_as)
    os.setgroups([])
    os.setgid(user.pw_gid)
    os.setuid(user.pw_uid)
    os.environ["HOME"] = user.pw_dir
    os.environ["USER"] = user.pw_name


def writable_dirs(settings: Settings) -> list[Path]:
    """The data dir, and the local dir and the cache when they are in use and elsewhere (never a mount)."""
    dirs = [settings.data_dir]
    if settings.uses_local_dir:
        dirs.append(settings.local_dir)
    if not any(settings.cache_dir.is_relative_to(d) for d in dirs):
        dirs.append(settings.cache_dir)
    return dirs


def _hand_over(path: Path, user: pwd.struct_passwd, name: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    if path.stat().st_uid == user.pw_uid:
        return
    log(f"handing {path} to {name} (first boot on this volume)")
    for root, dirs, files in os.walk(path):
        for entry in [*dirs, *files]:
            os.lchown(os.path.join(root, entry), user.pw_uid, user.pw_gid)
    os.chown(path, user.pw_uid, user.pw_gid)
