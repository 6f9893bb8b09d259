"""The bucket that holds the Studio's songs, uploads and queue, mounted read-write into the Space at /data.

Calls: `bucket_info` (look and read), `create_bucket(private=True)`, `update_bucket_settings(private=)`,
`delete_bucket`. The resource id is the bucket's id, `<namespace>/<name>`; the bucket is always private.

Ownership. A bucket has no free-form metadata the Hub API exposes, and a marker object inside it would need a
Xet upload. So the owner id is folded into the name the stack gives it: `songgen-<stack>-<digest of
organization/project/stack>` (see `bucket_name`). A second stack started from a copy of this stack file has
another owner id, so another bucket name: it never meets this stack's bucket. A bucket of this exact name is
one this stack made (an earlier run whose answer was lost, or a run cut short) and is adopted.

Songs. A bucket holds the only copy of the songs. A replacement (another namespace, or a renamed stack) makes a
new, empty bucket and deletes the old one: its `diff` warns in words in the preview, as the stored-data guard
does, and with songgen-studio:protectData (on in prod-like stacks) the guard refuses it before any write and
the bucket is also `protect`ed, so `pulumi destroy` stops before deleting anything. `delete` says how many files
go with it.

Known gap: a run killed (the CLI, not a lost answer) while the bucket is being created may leave it out of the
state; the next `up` adopts it by its name, after which `destroy` removes it.
"""

from __future__ import annotations

from typing import Any

import pulumi
from huggingface_hub import BucketInfo
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, ReadResult, UpdateResult

from components.dynamic import ownership, progress
from components.dynamic.adopt import create_or_adopt
from components.dynamic.compare import is_unknown, plain
from components.dynamic.diff import KeyedDiff, diff_inputs, gone

from .catalog import HUB_NAME
from .hub import Hub
from .provider import SpacesProvider

INPUTS = ("bucket_id", "private", "owner")
WHAT_IT_HOLDS = "songs, uploads and queue"


def bucket_name(owner: str) -> str:
    """The stack's bucket name: readable, and unique to its owner id."""
    return f"songgen-{ownership.slug(ownership.stack_of(owner), 40)}-{ownership.digest(owner)}"


def describe(info: BucketInfo) -> str:
    return f"{info.total_files} file(s), {info.size / 1e6:.1f} MB"


def loss_warning(bucket_id: str) -> str:
    return (
        f"bucket {bucket_id}: replaced by a new, empty bucket; the {WHAT_IT_HOLDS} it holds are deleted with it. "
        "Copy them first (hf buckets download, or the bucket's page on the Hub)."
    )


class BucketProvider(SpacesProvider):
    kind = "bucket"

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs = {key: plain(news.get(key)) for key in INPUTS}
        failures = []
        bucket_id = inputs["bucket_id"]
        if not is_unknown(bucket_id) and not (
            isinstance(bucket_id, str)
            and len(parts := bucket_id.split("/")) == 2
            and all(HUB_NAME.fullmatch(p) for p in parts)
        ):
            failures.append(
                CheckFailure("bucket_id", f"{bucket_id!r} is not a bucket id (<namespace>/<name>)")
            )
        return CheckResult(inputs, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> KeyedDiff:
        result = diff_inputs(olds, news, ("bucket_id", "private"), replace_on=("bucket_id",))
        if result.replaces:
            progress.warn(loss_warning(str(olds.get("bucket_id"))))
        return result

    def create(self, props: dict[str, Any]) -> CreateResult:
        bucket_id = str(props["bucket_id"])
        hub = self.connect(bucket_id)

        def find(_fresh: bool) -> BucketInfo | None:
            info = hub.find("bucket lookup", lambda api: api.bucket_info(bucket_id))
            if info is not None:
                progress.info(
                    f"bucket {bucket_id}: made by this stack in an earlier run (its name carries the stack's "
                    f"fingerprint); adopted with {describe(info)}"
                )
                self._apply(hub, bucket_id, info, props)
            return info

        def create() -> BucketInfo:
            hub.call(
                "bucket create",
                lambda api: api.create_bucket(bucket_id, private=bool(props["private"])),
                idempotent=False,
            )
            progress.info(f"bucket {bucket_id}: created (private) for the Studio's {WHAT_IT_HOLDS}")
            return hub.call("bucket lookup", lambda api: api.bucket_info(bucket_id))

        info, _adopted = create_or_adopt(find, create)
        return CreateResult(bucket_id, self._outputs(props, info))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        hub = self.connect(id_)
        info = hub.find("bucket lookup", lambda api: api.bucket_info(id_))
        if info is None:
            return gone()
        outs = self._outputs({**props, "bucket_id": id_, "private": bool(info.private)}, info)
        return ReadResult(id_, outs, {key: outs.get(key) for key in INPUTS})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        hub = self.connect(id_)
        info = hub.call("bucket lookup", lambda api: api.bucket_info(id_))
        self._apply(hub, id_, info, news)
        return UpdateResult(self._outputs(news, info))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        hub = self.connect(id_)
        info = hub.find("bucket lookup", lambda api: api.bucket_info(id_))
        if info is None:
            return
        hub.call("bucket delete", lambda api: api.delete_bucket(id_, missing_ok=True))
        progress.warn(f"bucket {id_}: deleted with its {describe(info)} (the Studio's {WHAT_IT_HOLDS})")

    @staticmethod
    def _apply(hub: Hub, bucket_id: str, info: BucketInfo, want: dict[str, Any]) -> None:
        private = bool(want["private"])
        if bool(info.private) != private:
            hub.call("bucket visibility", lambda api: api.update_bucket_settings(bucket_id, private=private))
            progress.info(f"bucket {bucket_id}: now {'private' if private else 'public'}")

    @staticmethod
    def _outputs(props: dict[str, Any], info: BucketInfo) -> dict[str, Any]:
        return {**{key: props.get(key) for key in INPUTS}, "files": info.total_files, "bytes": info.size}


class Bucket(pulumi.dynamic.Resource, module="spaces", name="Bucket"):
    """A private Hub bucket for the Studio's songs, uploads and queue, named after its stack's owner id."""

    bucket_id: pulumi.Output[str]

    def __init__(
        self, resource_name: str, *, bucket_id: str, owner: str, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        props = {"bucket_id": bucket_id, "private": True, "owner": owner, "files": None, "bytes": None}
        super().__init__(BucketProvider(), resource_name, props, opts)
