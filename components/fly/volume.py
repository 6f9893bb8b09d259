"""Fly volume: `POST/GET /apps/{app}/volumes`, `PUT .../{id}` (settings), `PUT .../{id}/extend`, `DELETE .../{id}`.

The resource id is the volume id. A volume holds the Studio's model cache and its songs, so what replaces one
is chosen so that no routine edit empties it silently:
- size only grows, in place; a smaller size is refused before anything changes;
- a new GPU placement hint (`compute`, after a `gpuKind` change) replaces the volume with a *fork* of the old
  one in the same region: the new volume starts with the old one's data;
- `source_volume_id` (a fork source for a region's second volume) is used at creation only: the source being
  replaced or lost never replaces this volume;
- what would lose data (a volume a stack no longer declares, an app rename) is said in words by the stack's
  stored-data guard (`components/dynamic/data_guard.py`), which refuses it in production stacks.

A replacement creates the new volume before the old one goes: the machine that mounts the old volume still holds
it (Fly refuses to delete a bound volume), and only once that machine has moved to the new volume, or been
replaced itself, can the old one be deleted. Volume names are not unique on Fly, so both can exist for a while;
an earlier attempt's volume is told apart from the one being replaced because it is not mounted by anything.
A volume that a live machine still mounts when it is deleted (a machine the state does not list, or one a failed
move left behind) is left in place with a warning: it goes with the app on `destroy`, which names it.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, ReadResult, UpdateResult

from components.dynamic import progress
from components.dynamic.adopt import create_or_adopt
from components.dynamic.compare import is_unknown, plain
from components.dynamic.diff import KeyedDiff, diff_inputs, gone
from components.dynamic.errors import ProviderError

from .api import FlyClient, segment
from .app import OWNER_METADATA
from .catalog import MAX_VOLUME_GB as MAX_SIZE_GB
from .errors import Category, FlyApiError
from .machine import MachineResponse, get_machine
from .provider import FlyProvider, listed_once, same, to_wire

VOLUME_NAME = re.compile(r"^[A-Za-z0-9_]{1,30}$")
INPUTS = (
    "app_name",
    "name",
    "region",
    "size_gb",
    "encrypted",
    "compute",
    "source_volume_id",
    "snapshot_retention",
)
# What a preview compares; the fork source is not a property of the volume, only of how it began.
DIFFED = ("app_name", "name", "region", "size_gb", "encrypted", "compute", "snapshot_retention")
REPLACE_ON = ("app_name", "name", "region", "encrypted", "compute")
GONE_STATES = frozenset(
    {"scheduling_destroy", "fork_cleanup", "waiting_for_detach", "pending_destroy", "destroying", "destroyed"}
)
# A machine destroyed just before its volume lets go of it a moment later.
DETACH_WAIT_S = 60.0


class CreateVolumeRequest(TypedDict):
    name: str
    region: str
    size_gb: int
    encrypted: bool
    compute: NotRequired[dict[str, Any]]
    source_volume_id: NotRequired[str]
    snapshot_retention: NotRequired[int]


class VolumeResponse(TypedDict, total=False):
    id: str
    name: str
    state: str
    size_gb: int
    region: str
    zone: str
    encrypted: bool
    attached_machine_id: str | None
    snapshot_retention: int
    created_at: str


class ExtendVolumeResponse(TypedDict):
    volume: VolumeResponse
    needs_restart: bool


def _path(app: str, volume_id: str = "") -> str:
    base = f"/apps/{segment(app)}/volumes"
    return f"{base}/{segment(volume_id)}" if volume_id else base


def list_volumes(fly: FlyClient, app: str) -> list[VolumeResponse]:
    volumes: list[VolumeResponse] = fly.get_json(_path(app)) or []
    return [v for v in volumes if v.get("state") not in GONE_STATES]


def get_volume(fly: FlyClient, app: str, volume_id: str) -> VolumeResponse | None:
    volume: VolumeResponse | None = fly.get_json(_path(app, volume_id))
    return None if volume is None or volume.get("state") in GONE_STATES else volume


def create_volume(fly: FlyClient, app: str, request: CreateVolumeRequest) -> VolumeResponse:
    volume: VolumeResponse = fly.send_json("POST", _path(app), to_wire(dict(request)))
    return volume


def extend_volume(fly: FlyClient, app: str, volume_id: str, size_gb: int) -> ExtendVolumeResponse:
    extended: ExtendVolumeResponse = fly.send_json(
        "PUT", f"{_path(app, volume_id)}/extend", {"size_gb": size_gb}
    )
    return extended


def update_volume(fly: FlyClient, app: str, volume_id: str, snapshot_retention: int) -> VolumeResponse:
    volume: VolumeResponse = fly.send_json(
        "PUT", _path(app, volume_id), {"snapshot_retention": snapshot_retention}
    )
    return volume


@dataclass(frozen=True)
class Deletion:
    """How a delete ended: `deleted` is False when it was gone already or a live machine still holds it."""

    deleted: bool
    held_by: MachineResponse | None = None


def delete_volume(fly: FlyClient, app: str, volume_id: str) -> Deletion:
    """Delete; while a just-destroyed machine still holds the volume, Fly answers 412 for a moment: wait it out.

    A live machine holding it is not waited for: the caller decides what that means."""
    deadline = time.monotonic() + DETACH_WAIT_S
    while True:
        try:
            return Deletion(fly.delete(_path(app, volume_id)))
        except FlyApiError as err:
            if not (err.status == 412 and "bound to machine" in err.fly_message):
                raise
            holder_id = err.fly_message.rsplit(":", 1)[-1].strip()
            holder = get_machine(fly, app, holder_id) if holder_id else None
            if holder is not None:
                return Deletion(False, holder)
            if time.monotonic() >= deadline:
                raise err.with_advice(
                    f"The volume is still bound to machine {holder_id}, which is being destroyed; run the "
                    "command again in a minute.",
                    Category.PRECONDITION,
                ) from None
            progress.status(f"{err.subject}: waiting for machine {holder_id} to release it")
            time.sleep(1.0)


def _shrinks(olds: dict[str, Any], news: dict[str, Any]) -> bool:
    """Smaller than before without a replacement: the one change a volume cannot take."""
    old, new = olds.get("size_gb"), news.get("size_gb")
    if not olds or is_unknown(new) or not isinstance(old, int | float) or not isinstance(new, int | float):
        return False
    replaced = any(not same({k: olds.get(k)}, {k: news.get(k)}) for k in REPLACE_ON)
    return new < old and not replaced


def shrink_message(name: Any, old: Any, new: Any) -> str:
    return (
        f"volume {name} cannot shrink from {int(old)} GB to {int(new)} GB: Fly volumes only grow. Keep "
        f"songgen-studio:volumeSizeGb at {int(old)} or more."
    )


class VolumeProvider(FlyProvider):
    kind = "volume"

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs = {key: plain(news.get(key)) for key in INPUTS}
        if inputs["encrypted"] is None:
            inputs["encrypted"] = True
        failures = []
        name, size = inputs["name"], inputs["size_gb"]
        if not is_unknown(name) and not (isinstance(name, str) and VOLUME_NAME.match(name)):
            failures.append(
                CheckFailure("name", f"volume name {name!r} must be 1-30 letters, digits or underscores")
            )
        if not is_unknown(inputs["region"]) and not inputs["region"]:
            failures.append(CheckFailure("region", "region is required"))
        if not is_unknown(size) and not (isinstance(size, int | float) and 1 <= size <= MAX_SIZE_GB):
            failures.append(CheckFailure("size_gb", f"size_gb {size!r} must be between 1 and {MAX_SIZE_GB}"))
        elif _shrinks(olds, inputs):
            raise ProviderError(shrink_message(name, olds["size_gb"], size))
        self._say_what_happens_to_the_data(olds, inputs)
        return CheckResult(inputs, failures)

    @staticmethod
    def _say_what_happens_to_the_data(olds: dict[str, Any], news: dict[str, Any]) -> None:
        moved = not is_unknown(news.get("compute")) and not same(olds.get("compute"), news.get("compute"))
        if olds.get("name") and moved:
            progress.info(
                f"volume {olds.get('name')} moves to a new GPU placement: it is replaced by a fork of itself, "
                "so its songs and model cache are kept"
            )

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> KeyedDiff:
        if _shrinks(olds, news):
            raise ProviderError(shrink_message(news.get("name"), olds["size_gb"], news["size_gb"]))
        # Create first: the old volume is bound to its machine until that machine lets go of it.
        return diff_inputs(olds, news, DIFFED, replace_on=REPLACE_ON, equal=same)

    def create(self, props: dict[str, Any]) -> CreateResult:
        app, name, region = str(props["app_name"]), str(props["name"]), str(props["region"])
        encrypted = bool(props["encrypted"])
        with self.client(name) as fly:

            def listed(fresh: bool) -> list[VolumeResponse]:
                volumes: list[VolumeResponse] = listed_once(
                    (fly.base_url, app, "volumes"), lambda: list_volumes(fly, app), fresh=fresh
                )
                return volumes

            def adoptable(volume: VolumeResponse) -> bool:
                # Ours from an earlier attempt: what we ask for, and no machine holds it yet (a volume being
                # replaced is still mounted by its machine).
                return (
                    volume.get("name") == name
                    and volume.get("region") == region
                    and volume.get("encrypted", True) == encrypted
                    and not volume.get("attached_machine_id")
                )

            def find(fresh: bool) -> VolumeResponse | None:
                candidates = sorted(
                    (v for v in listed(fresh) if adoptable(v)), key=lambda v: v.get("created_at", "")
                )
                for candidate in candidates:
                    live = get_volume(fly, app, str(candidate["id"]))  # the listing may predate this run
                    if live is not None and adoptable(live):
                        return live
                return None

            forked_from: list[str] = []

            def create() -> VolumeResponse:
                request = CreateVolumeRequest(
                    name=name, region=region, size_gb=int(props["size_gb"]), encrypted=encrypted
                )
                for key in ("compute", "snapshot_retention"):
                    if props.get(key) is not None:
                        request[key] = props[key]
                source = self._fork_source(fly, app, props, listed(False))
                if source is not None:
                    request["source_volume_id"] = source
                    forked_from[:] = [source]
                return create_volume(fly, app, request)

            volume, adopted = create_or_adopt(find, create)
            origin = f" (a fork of {forked_from[0]})" if forked_from and not adopted else ""
            progress.info(
                f"volume {name}: {'adopted' if adopted else 'created'} {volume.get('id')} in {region}{origin}"
            )
            if adopted and int(volume.get("size_gb", 0)) < int(props["size_gb"]):
                volume = self._extend(fly, app, volume, int(props["size_gb"]))[0]
        return CreateResult(str(volume["id"]), self._outputs(props, volume, needs_restart=False))

    @staticmethod
    def _fork_source(
        fly: FlyClient, app: str, props: dict[str, Any], listed: list[VolumeResponse]
    ) -> str | None:
        """What the new volume starts from: the volume it replaces (same name and region: a new GPU placement),
        else the region's first volume when it still exists (a machine added beside it), else nothing."""
        name, region = props["name"], props["region"]
        predecessors = [
            v
            for v in listed
            if v.get("name") == name and v.get("region") == region and v.get("attached_machine_id")
        ]
        wanted = [str(v["id"]) for v in predecessors]
        if props.get("source_volume_id") and not is_unknown(props["source_volume_id"]):
            wanted.append(str(props["source_volume_id"]))
        for volume_id in wanted:
            live = get_volume(fly, app, volume_id)
            if live is not None and live.get("region") == region:
                return volume_id
        return None

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        app = str(props.get("app_name", ""))
        with self.client(str(props.get("name") or id_)) as fly:
            volume = get_volume(fly, app, id_)
        if volume is None:
            return gone()
        inputs = {key: props.get(key) for key in INPUTS}
        for key in ("name", "region", "size_gb", "encrypted"):
            inputs[key] = volume.get(key, inputs[key])
        if props.get("snapshot_retention") is not None:
            inputs["snapshot_retention"] = volume.get("snapshot_retention", props["snapshot_retention"])
        outs = self._outputs(inputs, volume, needs_restart=bool(props.get("needs_restart")))
        return ReadResult(id_, outs, inputs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        app, name = str(news["app_name"]), str(news["name"])
        with self.client(name) as fly:
            volume = get_volume(fly, app, id_)
            if volume is None:
                raise fly.error(f"volume {id_} no longer exists in app {app}", Category.NOT_FOUND)
            needs_restart = False
            if int(news["size_gb"]) > int(volume.get("size_gb", 0)):
                volume, needs_restart = self._extend(fly, app, volume, int(news["size_gb"]))
            retention = news.get("snapshot_retention")
            if retention is not None and not same(retention, olds.get("snapshot_retention")):
                volume = update_volume(fly, app, id_, int(retention))
        return UpdateResult(self._outputs(news, volume, needs_restart=needs_restart))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        app, name = str(props.get("app_name", "")), str(props.get("name") or id_)
        with self.client(name) as fly:
            outcome = delete_volume(fly, app, id_)
        if outcome.deleted:
            progress.info(f"volume {name}: deleted {id_}")
        elif outcome.held_by is not None:
            holder = outcome.held_by
            metadata = (holder.get("config") or {}).get("metadata") or {}
            whose = (
                "a machine of this stack that still uses it (a run cut short, or a move to a new volume that "
                "did not complete)"
                if metadata.get(OWNER_METADATA)
                else "a machine this stack did not make"
            )
            progress.warn(
                f"volume {name}: {id_} is still mounted by {whose}: {holder.get('id')} "
                f"({holder.get('name') or 'unnamed'}, {holder.get('state')}). It is left in place, no longer "
                f"tracked by this stack, and goes with the app on pulumi destroy (or fly volumes destroy {id_} "
                "once that machine is gone)"
            )

    @staticmethod
    def _extend(
        fly: FlyClient, app: str, volume: VolumeResponse, size_gb: int
    ) -> tuple[VolumeResponse, bool]:
        before = volume.get("size_gb")
        extended = extend_volume(fly, app, str(volume["id"]), size_gb)
        needs_restart = bool(extended.get("needs_restart"))
        note = (
            "; the machine that mounts it sees the new size after its next restart" if needs_restart else ""
        )
        progress.info(f"{fly.subject}: extended from {before} GB to {size_gb} GB{note}")
        return extended.get("volume") or {**volume, "size_gb": size_gb}, needs_restart

    @staticmethod
    def _outputs(props: dict[str, Any], volume: VolumeResponse, *, needs_restart: bool) -> dict[str, Any]:
        outs = {key: props.get(key) for key in INPUTS}
        outs.update(
            volume_id=volume.get("id"),
            size_gb=volume.get("size_gb", props.get("size_gb")),
            encrypted=volume.get("encrypted", props.get("encrypted")),
            zone=volume.get("zone", ""),
            needs_restart=needs_restart,
        )
        return outs


class Volume(pulumi.dynamic.Resource, module="fly", name="Volume"):
    """A Fly volume: persistent storage for one machine in one region. Grows in place, never shrinks."""

    app_name: pulumi.Output[str]
    volume_id: pulumi.Output[str]
    name: pulumi.Output[str]
    region: pulumi.Output[str]
    size_gb: pulumi.Output[int]
    zone: pulumi.Output[str]
    encrypted: pulumi.Output[bool]
    needs_restart: pulumi.Output[bool]

    def __init__(
        self,
        resource_name: str,
        *,
        app_name: pulumi.Input[str],
        name: pulumi.Input[str],
        region: pulumi.Input[str],
        size_gb: pulumi.Input[int],
        encrypted: pulumi.Input[bool] = True,
        compute: pulumi.Input[dict[str, Any]] | None = None,
        source_volume_id: pulumi.Input[str] | None = None,
        snapshot_retention: pulumi.Input[int] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "app_name": app_name,
            "name": name,
            "region": region,
            "size_gb": size_gb,
            "encrypted": encrypted,
            "compute": compute,
            "source_volume_id": source_volume_id,
            "snapshot_retention": snapshot_retention,
            "volume_id": None,
            "zone": None,
            "needs_restart": None,
        }
        super().__init__(VolumeProvider(), resource_name, props, opts)
