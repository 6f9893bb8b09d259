"""Started as root: hand the volume to the runtime user and become that user."""

from __future__ import annotations

import os

from .config import Settings
from .console import log


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
