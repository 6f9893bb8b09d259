"""A notice in the resource tree: destroying this stack deletes the songs in its bucket.

`pulumi destroy` runs no provider code in its preview, so no provider can warn there; what a destroy preview
shows is each resource's type and name. This resource is that warning: its name says what a destroy loses,
and it depends on everything else the stack declares, so a destroy deletes it first. With
songgen-studio:protectData it is `protect`ed, which makes the engine refuse the destroy at this first step,
before anything else is deleted (protecting the bucket alone would let the engine delete the rest of the
Space first). To lift it: pulumi config set protectData false, pulumi up, then pulumi destroy (or, without
the program, pulumi state unprotect --all).

It calls no API and holds only the bucket's id.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, UpdateResult

from components.dynamic.diff import KeyedDiff, diff_inputs

from .provider import SpacesProvider

NAME = "destroy-deletes-the-songs-in-the-bucket"


class SongsNoticeProvider(SpacesProvider):
    kind = "notice"

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> KeyedDiff:
        return diff_inputs(olds, news, ("bucket_id",))

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult("songs-notice", {"bucket_id": props.get("bucket_id")})

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult({"bucket_id": news.get("bucket_id")})


class SongsNotice(pulumi.dynamic.Resource, module="spaces", name="SongsNotice"):
    """Named so a destroy preview says that the bucket's songs go; protected with protectData."""

    def __init__(self, *, bucket_id: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(SongsNoticeProvider(), NAME, {"bucket_id": bucket_id}, opts)
