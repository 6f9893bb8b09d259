"""The Space's files: the image's build context (`docker/`) and a generated README front matter, one commit.

Calls: `space_info(files_metadata=True)` (the head commit and each file's git blob id), `create_commit` with
`parent_commit` (a commit made elsewhere in between is refused with 412, never overwritten). The resource id
is the Space's id.

Content-addressed. The inputs are each file's sha256, not its content, so an unchanged context diffs as
nothing: no commit, no rebuild, and the preview shows no change. On create or update the provider reads the
files from the context directory (checked against those digests), compares their git blob ids with the
Space's head, and commits only what differs, deleting files the Space has and the context does not
(`.gitattributes`, which the Hub writes, stays). If the Space already holds exactly this content (an earlier
run whose answer was lost) nothing is committed and the head is adopted; a lost commit answer is therefore
looked at again, never sent twice. `upload_folder` is not used: with hf_xet installed it retries a commit on a
5xx and can commit twice.

Every commit rebuilds the Space on the Hub (rollout.py waits for it). `read` reports a file changed, added or
removed outside Pulumi, so the next `up` commits the stack's content again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

import pulumi
from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi, SpaceInfo
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, ReadResult, UpdateResult

from components.dynamic import progress
from components.dynamic.api_error import Subject
from components.dynamic.compare import is_unknown, plain
from components.dynamic.diff import KeyedDiff, diff_inputs, gone

from .errors import Category, SpacesError
from .provider import SpacesProvider

README = "README.md"
# Files the Hub keeps in every Space repo; the stack neither writes nor deletes them.
HUB_FILES = frozenset({".gitattributes"})
# Commits refused because the Space moved on in between (412) are tried again this many times.
COMMIT_ATTEMPTS = 3
CHANGED_OUTSIDE = "changed outside Pulumi"
ADDED_OUTSIDE = "added outside Pulumi"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def git_blob_id(data: bytes) -> str:
    """What the Hub lists as a regular file's blob id: git's object id of the content."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def context_digest(files: Mapping[str, str]) -> str:
    """One fingerprint of the whole content (path and sha256 of every file)."""
    text = "".join(f"{path}\0{digest}\n" for path, digest in sorted(files.items()))
    return sha256(text.encode())[:12]


def read_content(repo_id: str, context: Path, files: Mapping[str, str], readme: str) -> dict[str, bytes]:
    """The bytes of every file, checked against the digests the program computed."""
    out: dict[str, bytes] = {}
    for path, digest in files.items():
        data = readme.encode() if path == README else (context / path).read_bytes()
        if sha256(data) != digest:
            raise SpacesError(
                Subject("files", repo_id),
                message=f"{path} changed while this deploy ran (its content no longer matches the preview)",
                category=Category.INVALID,
                suggestion="Run pulumi up again once the build context is as you want it.",
            )
        out[path] = data
    return out


def live_blobs(info: SpaceInfo) -> dict[str, str]:
    return {s.rfilename: str(s.blob_id) for s in info.siblings or [] if s.rfilename not in HUB_FILES}


class SpaceFilesProvider(SpacesProvider):
    kind = "files"

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs = {key: plain(news.get(key)) for key in ("repo_id", "files", "readme", "context")}
        failures = []
        files = inputs["files"]
        if not is_unknown(files) and not (isinstance(files, Mapping) and README in files):
            failures.append(
                CheckFailure("files", f"files must map paths to sha256 digests, {README} among them")
            )
        return CheckResult(inputs, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> KeyedDiff:
        # The context directory is where this machine keeps the files, not what the Space holds.
        return diff_inputs(olds, news, ("repo_id", "files"), replace_on=("repo_id",))

    def create(self, props: dict[str, Any]) -> CreateResult:
        repo_id = str(props["repo_id"])
        return CreateResult(repo_id, self._commit(repo_id, props))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._commit(str(news["repo_id"]), news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        hub = self.connect(id_)
        info = hub.find("space files", lambda api: api.space_info(id_, files_metadata=True))
        if info is None:
            return gone()
        live, recorded = live_blobs(info), dict(props.get("blob_ids") or {})
        files = {}
        for path, digest in dict(props.get("files") or {}).items():
            if path in live:
                files[path] = digest if live[path] == recorded.get(path) else CHANGED_OUTSIDE
        files.update({path: ADDED_OUTSIDE for path in live if path not in recorded})
        outs = {**props, "files": files, "commit": info.sha}
        return ReadResult(
            id_, outs, {key: outs.get(key) for key in ("repo_id", "files", "readme", "context")}
        )

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        # The files go with the Space; removing them first would only start a pointless build.
        return None

    def _commit(self, repo_id: str, props: dict[str, Any]) -> dict[str, Any]:
        files = {str(k): str(v) for k, v in dict(props["files"]).items()}
        content = read_content(repo_id, Path(str(props["context"])), files, str(props["readme"]))
        blob_ids = {path: git_blob_id(data) for path, data in content.items()}
        hub = self.connect(repo_id)
        digest = context_digest(files)
        for attempt in range(1, COMMIT_ATTEMPTS + 1):
            info = hub.call("space files", lambda api: api.space_info(repo_id, files_metadata=True))
            live = live_blobs(info)
            adds = [p for p, blob in blob_ids.items() if live.get(p) != blob]
            deletes = sorted(set(live) - set(blob_ids))
            if not adds and not deletes:
                progress.info(f"files {repo_id}: already hold context {digest}; nothing to commit")
                return self._outputs(props, str(info.sha), blob_ids)
            operations: list[CommitOperationAdd | CommitOperationDelete] = [
                *(CommitOperationDelete(path_in_repo=p) for p in deletes),
                *(CommitOperationAdd(path_in_repo=p, path_or_fileobj=content[p]) for p in sorted(adds)),
            ]
            try:
                commit = hub.call(
                    "space commit",
                    partial(
                        HfApi.create_commit,
                        repo_id=repo_id,
                        operations=operations,
                        commit_message=f"songgen-studio: image context {digest}",
                        repo_type="space",
                        parent_commit=info.sha,
                    ),
                    idempotent=False,
                )
            except SpacesError as err:
                # Another commit landed first (412), or the answer was lost: look again before anything else.
                if attempt < COMMIT_ATTEMPTS and (err.category == Category.PRECONDITION or err.maybe_applied):
                    continue
                raise
            progress.info(
                f"files {repo_id}: committed context {digest} ({len(adds)} added or changed, "
                f"{len(deletes)} removed); the Hub rebuilds the Space"
            )
            return self._outputs(props, str(commit.oid), blob_ids)
        raise AssertionError("unreachable: the last attempt returns or raises")

    @staticmethod
    def _outputs(props: dict[str, Any], commit: str, blob_ids: Mapping[str, str]) -> dict[str, Any]:
        return {
            "repo_id": props["repo_id"],
            "files": dict(props["files"]),
            "readme": props["readme"],
            "context": props["context"],
            "commit": commit,
            "blob_ids": dict(blob_ids),
        }


class SpaceFiles(pulumi.dynamic.Resource, module="spaces", name="SpaceFiles"):
    """The Space repo's content: the image's build context and its README, committed together."""

    commit: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        repo_id: str,
        files: Mapping[str, str],
        readme: str,
        context: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "repo_id": repo_id,
            "files": dict(files),
            "readme": readme,
            "context": context,
            "commit": None,
            "blob_ids": None,
        }
        super().__init__(SpaceFilesProvider(), resource_name, props, opts)
