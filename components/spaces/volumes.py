"""The Space's volumes: the weight repos mounted read-only, and the stack's bucket mounted read-write at /data.

Calls: `set_space_volumes` (replaces the whole list), `delete_space_volumes`, `get_space_runtime` (what is
mounted), `model_info` (the commit `main` points at). The resource id is the Space's id.

Revisions. A weight repo mounted at `main` would change under a running Studio whenever its owner pushes, so
each repo is mounted at a commit: the one `songgen-studio:weightRevisions` names, or, where it says `main` (the
default), the commit `main` pointed at when the repo was first mounted here. That commit is kept in the state
(`resolved`, and the stack's `weights` output) until the setting names another, so later pushes change nothing.

Diff: any change of the list is an in-place update; the Hub restarts a running Space to apply it (rollout.py
waits). The volumes go with the Space, so a new Space replaces them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

import pulumi
from huggingface_hub import HfApi, Volume
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, ReadResult, UpdateResult

from components.dynamic import progress
from components.dynamic.compare import contains_unknown, plain
from components.dynamic.diff import KeyedDiff, diff_inputs, gone

from .catalog import COMMIT, FOLLOW_MAIN
from .errors import Category, SpacesError
from .hub import Hub
from .provider import SpacesProvider

Mount = dict[str, Any]
FIELDS = ("type", "source", "mount_path", "revision", "read_only")


def mount(type_: str, source: str, mount_path: str, *, revision: str | None = None) -> Mount:
    """A volume as this resource takes it: repos read-only at a revision, a bucket read-write."""
    return {
        "type": type_,
        "source": source,
        "mount_path": mount_path,
        "revision": revision if type_ != "bucket" else None,
        "read_only": type_ != "bucket",
    }


def _clean(raw: Mapping[str, Any]) -> Mount:
    return {key: raw.get(key) for key in FIELDS}


def _mounts(props: Mapping[str, Any], key: str = "mounts") -> list[Mount]:
    value = props.get(key)
    return [_clean(m) for m in value] if isinstance(value, Sequence) and not isinstance(value, str) else []


def of_volume(volume: Volume) -> Mount:
    return _clean(
        {
            "type": volume.type,
            "source": volume.source,
            "mount_path": volume.mount_path,
            "revision": volume.revision,
            "read_only": bool(volume.read_only),
        }
    )


def to_volume(m: Mount) -> Volume:
    return Volume(
        type=m["type"],
        source=m["source"],
        mount_path=m["mount_path"],
        revision=m["revision"],
        read_only=m["read_only"],
    )


def fingerprint(mounts: Sequence[Mount]) -> str:
    text = json.dumps(sorted(mounts, key=lambda m: str(m["mount_path"])), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def resolve(hub: Hub, wanted: Sequence[Mount], pinned_before: Sequence[Mount]) -> list[Mount]:
    """The mounts with every `main` turned into a commit: the one pinned before for the same repo and path,
    or the one `main` points at now."""
    before = {(m["source"], m["mount_path"]): m["revision"] for m in pinned_before}
    out = []
    for m in wanted:
        if m["type"] == "bucket" or m["revision"] != FOLLOW_MAIN:
            out.append(m)
            continue
        kept = before.get((m["source"], m["mount_path"]))
        if isinstance(kept, str) and COMMIT.fullmatch(kept):
            out.append({**m, "revision": kept})
            continue
        info = hub.call("weights revision", partial(HfApi.model_info, repo_id=m["source"], revision="main"))
        progress.info(f"volumes: {m['source']} main is at {info.sha}; mounted at that commit from now on")
        out.append({**m, "revision": info.sha})
    return out


def as_wanted(live: Sequence[Mount], wanted: Sequence[Mount], resolved: Sequence[Mount]) -> list[Mount]:
    """What is mounted, written as the stack asks for it where it matches (a `main` pinned here reads as
    `main`), so only real drift shows in the next diff."""
    pins = {m["mount_path"]: m for m in resolved}
    asked = {m["mount_path"]: m for m in wanted}
    out = []
    for m in live:
        request, pin = asked.get(m["mount_path"]), pins.get(m["mount_path"])
        out.append(request if request is not None and pin is not None and pin == m else m)
    return out


class SpaceVolumesProvider(SpacesProvider):
    kind = "volumes"

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs = {"repo_id": plain(news.get("repo_id")), "mounts": plain(news.get("mounts"))}
        failures = []
        if not contains_unknown(inputs["mounts"]):
            paths = [m.get("mount_path") for m in inputs["mounts"] or []]
            if len(set(paths)) != len(paths):
                failures.append(CheckFailure("mounts", "two volumes share a mount path"))
            for m in inputs["mounts"] or []:
                revision = m.get("revision")
                if m.get("type") != "bucket" and not (
                    revision == FOLLOW_MAIN or (isinstance(revision, str) and COMMIT.fullmatch(revision))
                ):
                    failures.append(
                        CheckFailure("mounts", f"{m.get('source')}: revision must be a commit or main")
                    )
        return CheckResult(inputs, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> KeyedDiff:
        return diff_inputs(olds, news, ("repo_id", "mounts"), replace_on=("repo_id",))

    def create(self, props: dict[str, Any]) -> CreateResult:
        repo_id = str(props["repo_id"])
        resolved = self._apply(self.connect(repo_id), repo_id, _mounts(props), [])
        return CreateResult(repo_id, self._outputs(repo_id, _mounts(props), resolved))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        hub = self.connect(id_)
        runtime = hub.find("space runtime", lambda api: api.get_space_runtime(id_))
        if runtime is None:
            return gone()
        live = [of_volume(v) for v in runtime.volumes or []]
        resolved = _mounts(props, "resolved")
        if sorted(map(fingerprint_one, live)) == sorted(map(fingerprint_one, resolved)):
            return ReadResult(id_, props, {"repo_id": id_, "mounts": _mounts(props)})
        mounted = as_wanted(live, _mounts(props), resolved)
        outs = self._outputs(id_, mounted, live)
        return ReadResult(id_, outs, {"repo_id": id_, "mounts": mounted})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        repo_id = str(news["repo_id"])
        resolved = self._apply(self.connect(repo_id), repo_id, _mounts(news), _mounts(olds, "resolved"))
        return UpdateResult(self._outputs(repo_id, _mounts(news), resolved))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        try:
            self.connect(id_).call("volumes delete", lambda api: api.delete_space_volumes(id_))
        except SpacesError as err:
            if err.category != Category.NOT_FOUND:
                raise

    @staticmethod
    def _apply(hub: Hub, repo_id: str, wanted: list[Mount], pinned_before: list[Mount]) -> list[Mount]:
        resolved = resolve(hub, wanted, pinned_before)
        hub.call("volumes", lambda api: api.set_space_volumes(repo_id, [to_volume(m) for m in resolved]))
        for m in resolved:
            at = f"@{m['revision'][:12]}" if m["revision"] else ""
            access = "read-only" if m["read_only"] else "read-write"
            progress.info(f"volumes {repo_id}: {m['type']} {m['source']}{at} at {m['mount_path']} ({access})")
        return resolved

    @staticmethod
    def _outputs(repo_id: str, mounts: list[Mount], resolved: list[Mount]) -> dict[str, Any]:
        return {
            "repo_id": repo_id,
            "mounts": mounts,
            "resolved": resolved,
            "fingerprint": fingerprint(resolved),
        }


def fingerprint_one(m: Mount) -> str:
    return json.dumps(m, sort_keys=True)


class SpaceVolumes(pulumi.dynamic.Resource, module="spaces", name="SpaceVolumes"):
    """What the Space mounts: weight repos read-only at pinned commits, the bucket read-write."""

    resolved: pulumi.Output[list[dict[str, Any]]]
    fingerprint: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        repo_id: str,
        mounts: list[Mount],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {"repo_id": repo_id, "mounts": mounts, "resolved": None, "fingerprint": None}
        super().__init__(SpaceVolumesProvider(), resource_name, props, opts)
