"""Space volumes: a list of repos (mounted read-only) and buckets (read-write) with their mount paths.

A volume's source must exist and be readable by the caller; a repo volume's revision must exist. Repos are
always mounted read-only: the Hub forces `readOnly: true` for them (a `false` is overridden, not refused), and
a bucket is read-write unless it says otherwise. Mount paths are absolute and unique within a Space.
"""

from __future__ import annotations

from typing import Any

from hub_emulator import ids
from hub_emulator.auth import Caller
from hub_emulator.core import Core
from hub_emulator.errors import HubError, bad_request
from hub_emulator.repostore import resolve

VOLUME_TYPES = ("bucket", "model", "dataset", "space")
_FIELDS = frozenset({"type", "source", "mountPath", "revision", "readOnly", "path"})


def check_volumes(core: Core, caller: Caller, raw: object) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        raise bad_request("volumes must be an array")
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        volume = _check_one(core, caller, item, f"volumes[{index}]")
        if volume["mountPath"] in seen:
            raise bad_request(f"volumes[{index}].mountPath {volume['mountPath']} is used by another volume")
        seen.add(volume["mountPath"])
        out.append(volume)
    return out


def _check_one(core: Core, caller: Caller, item: object, where: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise bad_request(f"{where} must be an object")
    unknown = set(item) - _FIELDS
    if unknown:
        raise bad_request(f"{where} has unknown fields: {', '.join(sorted(unknown))}")
    kind, source, mount = item.get("type"), item.get("source"), item.get("mountPath")
    if kind not in VOLUME_TYPES:
        raise bad_request(f"{where}.type must be one of {', '.join(VOLUME_TYPES)}, got {kind!r}")
    if (
        not isinstance(source, str)
        or len(source.split("/")) != 2
        or not all(map(ids.valid_name, source.split("/")))
    ):
        raise bad_request(f"{where}.source must be a <namespace>/<name> id, got {source!r}")
    if not isinstance(mount, str) or not mount.startswith("/") or mount.rstrip("/") == "":
        raise bad_request(f"{where}.mountPath must be an absolute path below /, got {mount!r}")
    revision, read_only, path = item.get("revision"), item.get("readOnly"), item.get("path")
    if read_only is not None and not isinstance(read_only, bool):
        raise bad_request(f"{where}.readOnly must be a boolean")
    if path is not None and (not isinstance(path, str) or path.startswith("/")):
        raise bad_request(f"{where}.path must be a relative folder inside the source")
    volume: dict[str, Any] = {"type": kind, "source": source, "mountPath": mount.rstrip("/")}
    if kind == "bucket":
        if revision is not None:
            raise bad_request(f"{where}.revision applies to repos only, not to a bucket")
        _check_bucket(core, caller, source, where)
        volume["readOnly"] = bool(read_only)
    else:
        if revision is not None and not isinstance(revision, str):
            raise bad_request(f"{where}.revision must be a string")
        _check_repo(core, caller, kind, source, revision, where)
        if revision is not None:
            volume["revision"] = revision
        volume["readOnly"] = True
    if path is not None:
        volume["path"] = path
    return volume


def _check_repo(core: Core, caller: Caller, kind: str, source: str, revision: str | None, where: str) -> None:
    repo = core.store.repos.get((kind, source))
    if repo is None or (repo.private and not caller.member_of(repo.owner)):
        raise bad_request(f"{where}: {kind} {source} does not exist or is not accessible with this token")
    if revision is not None:
        try:
            resolve(repo, revision)
        except HubError:
            raise bad_request(f"{where}: {kind} {source} has no revision {revision!r}") from None


def _check_bucket(core: Core, caller: Caller, source: str, where: str) -> None:
    bucket = core.store.buckets.get(source)
    if bucket is None or (bucket.private and not caller.member_of(bucket.owner)):
        raise bad_request(f"{where}: bucket {source} does not exist or is not accessible with this token")
