"""Fly volume: `POST/GET /apps/{app}/volumes`, `PUT .../{id}` (settings), `PUT .../{id}/extend`, `DELETE .../{id}`.

The resource id is the volume id. Name, region, encryption, compute hint and fork source are fixed at creation
(changing one replaces the volume); size only grows, in place.

A replacement creates the new volume before the old one goes: the machine that mounts the old volume still holds
it (Fly refuses to delete a bound volume), and only once that machine has moved to the new volume, or been
replaced itself, can the old one be deleted. Volume names are not unique on Fly, so both can exist for a while;
an earlier attempt's volume is told apart from the one being replaced because it is not mounted by anything.
"""

from __future__ import annotations

import re
import time
from typing import Any, NotRequired, TypedDict

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, ReadResult, UpdateResult

from . import progress
from .api import FlyClient, segment
from .errors import Category, FlyApiError
from .provider import (
    FlyDiffResult,
    FlyProvider,
    create_or_adopt,
    diff_inputs,
    gone,
    is_unknown,
    plain,
    same,
    to_wire,
)

VOLUME_NAME = re.compile(r"^[A-Za-z0-9_]{1,30}$")
MAX_SIZE_GB = 500
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
REPLACE_ON = ("app_name", "name", "region", "encrypted", "compute", "source_volume_id")
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


def delete_volume(fly: FlyClient, app: str, volume_id: str) -> bool:
    """Delete; while a just-destroyed machine still holds the volume, Fly answers 412 for a moment: wait it out."""
    deadline = time.monotonic() + DETACH_WAIT_S
    while True:
        try:
            return fly.delete(_path(app, volume_id))
        except FlyApiError as err:
            bound = err.status == 412 and "bound to machine" in err.fly_message
            if not bound:
                raise
            holder = err.fly_message.rsplit(":", 1)[-1].strip()
            if time.monotonic() >= deadline or _machine_alive(fly, app, holder):
                raise FlyApiError(
                    err.subject,
                    message=err.fly_message,
                    method=err.method,
                    path=err.path,
                    status=err.status,
                    request_id=err.request_id,
                    category=Category.PRECONDITION,
                    suggestion=(
                        f"The volume is still mounted by machine {holder}; destroy that machine first "
                        "(a volume is only freed once the machine that mounts it is gone)."
                    ),
                ) from None
            progress.status(f"{err.subject}: waiting for machine {holder} to release it")
            time.sleep(1.0)


def _machine_alive(fly: FlyClient, app: str, machine_id: str) -> bool:
    machine = fly.get_json(f"/apps/{segment(app)}/machines/{segment(machine_id)}") if machine_id else None
    return isinstance(machine, dict) and machine.get("state") not in ("destroying", "destroyed")


def _shrinks(olds: dict[str, Any], news: dict[str, Any]) -> bool:
    """Smaller than before without a replacement: the one change a volume cannot take."""
    old, new = olds.get("size_gb"), news.get("size_gb")
    if not olds or is_unknown(new) or not isinstance(old, int | float) or not isinstance(new, int | float):
        return False
    replaced = any(not same({k: olds.get(k)}, {k: news.get(k)}) for k in REPLACE_ON)
    return new < old and not replaced


def shrink_message(name: Any, old: Any, new: Any) -> str:
    return (
        f"volume {name} cannot shrink from {int(old)} GB to {int(new)} GB: Fly volumes only grow. Keep size_gb at "
        f"{int(old)} or more, or give the volume a new name to replace it with an empty, smaller one."
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
            failures.append(CheckFailure("size_gb", shrink_message(name, olds["size_gb"], size)))
        return CheckResult(inputs, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> FlyDiffResult:
        if _shrinks(olds, news):
            raise ValueError(shrink_message(news.get("name"), olds["size_gb"], news["size_gb"]))
        # Create first: the old volume is bound to its machine until that machine lets go of it.
        return diff_inputs(olds, news, INPUTS, replace_on=REPLACE_ON)

    def create(self, props: dict[str, Any]) -> CreateResult:
        app, name, region = str(props["app_name"]), str(props["name"]), str(props["region"])
        with self.client(name) as fly:

            def find() -> VolumeResponse | None:
                # Ours from an earlier attempt: what we ask for, and no machine holds it yet (a volume being
                # replaced is still mounted by its machine).
                candidates = [
                    v
                    for v in list_volumes(fly, app)
                    if v.get("name") == name
                    and v.get("region") == region
                    and v.get("encrypted", True) == bool(props["encrypted"])
                    and not v.get("attached_machine_id")
                ]
                return min(candidates, key=lambda v: v.get("created_at", "")) if candidates else None

            def create() -> VolumeResponse:
                request = CreateVolumeRequest(
                    name=name,
                    region=region,
                    size_gb=int(props["size_gb"]),
                    encrypted=bool(props["encrypted"]),
                )
                for key in ("compute", "source_volume_id", "snapshot_retention"):
                    if props.get(key) is not None:
                        request[key] = props[key]
                return create_volume(fly, app, request)

            volume, adopted = create_or_adopt(find, create)
            progress.info(
                f"volume {name}: {'adopted' if adopted else 'created'} {volume.get('id')} in {region}"
            )
            if adopted and int(volume.get("size_gb", 0)) < int(props["size_gb"]):
                volume = self._extend(fly, app, volume, int(props["size_gb"]))[0]
        return CreateResult(str(volume["id"]), self._outputs(props, volume, needs_restart=False))

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
        with self.client(str(props.get("name") or id_)) as fly:
            if delete_volume(fly, str(props.get("app_name", "")), id_):
                progress.info(f"volume {props.get('name') or id_}: deleted {id_}")

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
