"""The stack's stored data, watched across edits: no routine change loses songs or a model cache unsaid.

Every platform keeps the Studio's songs and model cache somewhere (Fly volumes, a Hub bucket, a Kubernetes
claim). An edit of the stack file can drop one of those without any provider of that storage being asked first:
a store the program no longer declares is simply deleted at the end of `up`, and `preview` calls nothing for it.
So each stack declares one `StoredData` resource listing its stores, each by a key that stays the same exactly as
long as the data does (platforms put into it whatever a replacement cannot carry over). Its `check`, which runs in
every preview and every `up` before anything changes, compares the list with the last one:
- a store that is gone or replaced by an empty one is named in a warning that says what is lost;
- with protection on (`songgen-studio:protectData`, on by default in production stacks) the change is refused
  before any write, naming the setting that allows it.
It calls no API and holds nothing but the list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ResourceProvider, UpdateResult

from . import host, progress
from .errors import ProviderError

PROTECT_SETTING = "songgen-studio:protectData"

host.attach()


def lost_stores(olds: Mapping[str, Any], news: Mapping[str, Any]) -> dict[str, str]:
    """Stores in the old list and not in the new one: key -> what it held, as the old list described it."""
    before = dict(olds.get("stores") or {})
    after = news.get("stores")
    if not isinstance(after, Mapping):
        return {}  # not known yet in this preview: nothing can be said
    return {key: str(description) for key, description in before.items() if key not in after}


class StoredDataProvider(ResourceProvider):
    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs = {"stores": news.get("stores"), "protect": news.get("protect")}
        lost = lost_stores(olds, inputs)
        if lost:
            what = "; ".join(
                f"{description} is removed or replaced by an empty one" for description in lost.values()
            )
            notice = f"{what}: the songs, uploads and model cache it holds are lost."
            if inputs["protect"] is True:
                raise ProviderError(
                    f"{PROTECT_SETTING}: {notice} This stack protects its stored data, so nothing was changed. "
                    "Download what you need first; then, to go ahead, run pulumi config set protectData false, "
                    "pulumi up, and set it back to true."
                )
            progress.warn(f"stored data: {notice}")
        return CheckResult(inputs, [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [k for k in ("stores", "protect") if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(changed), replaces=[], stables=None, delete_before_replace=None)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult("stored-data", dict(props))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(dict(news))


class StoredData(pulumi.dynamic.Resource, module="data", name="StoredData"):
    """The stack's stores of songs and model caches: key -> a description a person recognises."""

    stores: pulumi.Output[dict[str, str]]

    def __init__(
        self,
        resource_name: str,
        *,
        stores: Mapping[str, str],
        protect: bool,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            StoredDataProvider(), resource_name, {"stores": dict(stores), "protect": protect}, opts
        )
