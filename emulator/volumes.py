"""Volumes: create (plain, fork, snapshot restore), get, list, update, extend, delete, snapshots.

Facts modelled (Fly Machines API docs "Volumes", OpenAPI spec, fly-go volume_types.go):
- ids are `vol_` + 16 lowercase alphanumerics; size defaults to 3 GB, at most 500 GB; encrypted by default.
- extend is grow only and answers `{volume, needs_restart}`; needs_restart is true while a started
  machine has the volume mounted (the filesystem grows on its next boot).
- a volume bound to a machine cannot be destroyed, even when that machine is stopped: "failed_precondition:
  volume is currently bound to machine: <id>" (Fly staff on superfly/docs#2226); destroy the machine first.
- a fork (`source_volume_id`) or a restore (`snapshot_id`) is at least the source's size and starts with
  its contents.
"""

from __future__ import annotations

import copy
import re
import time
from typing import Any

from fastapi import APIRouter, Request

from emulator import ids, lifecycle
from emulator.core import Core, get_core
from emulator.errors import FlyError, bad_request, not_found, precondition
from emulator.regions import is_region
from emulator.state import Machine, Snapshot, Volume
from standin.jsonbody import JSON, opt_bool, opt_int, opt_obj, opt_str, read_object, str_list

router = APIRouter()

# Lowercase letters, digits and underscores, at most 30 characters: hyphenated names are rejected by Fly
# (observed against the live API in 2026, CurateLabs/graphforge#884).
VOLUME_NAME = re.compile(r"^[a-z0-9_]{1,30}$")
MAX_SIZE_GB = 500
DEFAULT_SIZE_GB = 3
BLOCK_SIZE = 4096


def bound_machine(core: Core, volume: Volume) -> Machine | None:
    """The machine holding this volume, if any. A destroyed machine lets go after the detach delay."""
    if volume.attached_machine_id is None:
        return None
    machine = core.store.machines.get(volume.attached_machine_id)
    if machine is None:
        volume.attached_machine_id = None
        return None
    lifecycle.advance(machine)
    if machine.state != "destroyed":
        return machine
    released_at = (machine.destroyed_at or 0.0) + core.settings.volume_detach_seconds
    if time.monotonic() < released_at:
        return machine
    volume.attached_machine_id = None
    return None


def render_volume(core: Core, volume: Volume, state: str = "created") -> dict[str, Any]:
    holder = bound_machine(core, volume)
    blocks = volume.size_gb * (1024**3) // BLOCK_SIZE
    return {
        "id": volume.id,
        "name": volume.name,
        "state": state,
        "size_gb": volume.size_gb,
        "region": volume.region,
        "zone": volume.zone,
        "encrypted": volume.encrypted,
        "attached_machine_id": holder.id if holder else None,
        "attached_alloc_id": None,
        "created_at": ids.iso(volume.created_at),
        "blocks": blocks,
        "block_size": BLOCK_SIZE,
        "blocks_free": blocks,
        "blocks_avail": blocks,
        "bytes_total": volume.size_gb * 1024**3,
        "bytes_used": 0,
        "fstype": volume.fstype,
        "snapshot_retention": volume.snapshot_retention,
        "auto_backup_enabled": volume.auto_backup_enabled,
        "host_dedication_key": "",
        "host_status": "ok",
        "type": "local",
    }


def get_volume(core: Core, app_name: str, volume_id: str) -> Volume:
    core.app(app_name)
    volume = core.store.volumes.get(volume_id)
    if volume is None or volume.app != app_name:
        raise not_found("volume not found")
    return volume


def _check_compute(compute: JSON) -> JSON:
    where = "compute."
    opt_str(compute, "cpu_kind", where)
    opt_int(compute, "cpus", where)
    opt_int(compute, "memory_mb", where)
    opt_str(compute, "gpu_kind", where)
    opt_int(compute, "gpus", where)
    opt_str(compute, "host_dedication_id", where)
    str_list(compute, "kernel_args", where)
    # A placement hint only: accepted whether or not GPUs are offered (the machine create is what fails).
    return dict(compute)


@router.get("/v1/apps/{app_name}/volumes")
async def list_volumes(app_name: str, request: Request) -> list[dict[str, Any]]:
    core = get_core(request)
    with core.lock:
        core.app(app_name)
        return [render_volume(core, v) for v in core.store.volumes.values() if v.app == app_name]


@router.post("/v1/apps/{app_name}/volumes")
async def create_volume(app_name: str, request: Request) -> dict[str, Any]:
    core = get_core(request)
    body = await read_object(request)
    name = opt_str(body, "name")
    region = opt_str(body, "region")
    size_gb = opt_int(body, "size_gb")
    encrypted = opt_bool(body, "encrypted")
    retention = opt_int(body, "snapshot_retention")
    auto_backup = opt_bool(body, "auto_backup_enabled")
    opt_bool(body, "require_unique_zone")
    opt_bool(body, "unique_zone_app_wide")
    opt_bool(body, "machines_only")
    fstype = opt_str(body, "fstype") or "ext4"
    source_id = opt_str(body, "source_volume_id")
    snapshot_id = opt_str(body, "snapshot_id")
    compute = opt_obj(body, "compute")

    if not name:
        raise bad_request("name is required")
    if not VOLUME_NAME.fullmatch(name):
        raise bad_request(
            f"invalid volume name {name!r}: use lowercase letters, digits and underscores, 30 characters at most"
        )
    if not region:
        raise bad_request("region is required")
    if not is_region(region):
        raise bad_request(f"unknown region {region!r}")
    if fstype not in ("ext4", "raw"):
        raise bad_request(f"invalid fstype {fstype!r}: expected ext4 or raw")
    if retention is not None and not 1 <= retention <= 60:
        raise bad_request("snapshot_retention must be between 1 and 60 days")
    if source_id and snapshot_id:
        raise bad_request("source_volume_id and snapshot_id are mutually exclusive")
    if compute is not None:
        compute = _check_compute(compute)

    with core.lock:
        core.app(app_name)
        data: dict[str, Any] = {}
        min_size = 1
        if source_id:
            source = core.store.volumes.get(source_id)
            if source is None or source.app != app_name:
                raise not_found(f"source volume {source_id} not found")
            min_size, data = source.size_gb, copy.deepcopy(source.data)
            size_gb = source.size_gb if size_gb is None else size_gb
            encrypted = source.encrypted if encrypted is None else encrypted
        if snapshot_id:
            snapshot = core.store.snapshots.get(snapshot_id)
            if snapshot is None or snapshot.app != app_name:
                raise not_found(f"snapshot {snapshot_id} not found")
            min_size, data = snapshot.size_gb, copy.deepcopy(snapshot.data)
            size_gb = snapshot.size_gb if size_gb is None else size_gb
        size = DEFAULT_SIZE_GB if size_gb is None else size_gb
        if size < min_size:
            raise bad_request(
                f"size_gb {size} is smaller than the source ({min_size} GB); a copy cannot shrink"
            )
        if not 1 <= size <= MAX_SIZE_GB:
            raise bad_request(f"size_gb must be between 1 and {MAX_SIZE_GB}")
        volume = Volume(
            id=ids.volume_id(),
            app=app_name,
            name=name,
            region=region,
            zone=ids.zone(),
            size_gb=size,
            encrypted=True if encrypted is None else encrypted,
            fstype=fstype,
            snapshot_retention=5 if retention is None else retention,
            auto_backup_enabled=True if auto_backup is None else auto_backup,
            created_at=time.time(),
            compute=compute,
            source_volume_id=source_id,
            snapshot_id=snapshot_id,
            data=data,
        )
        core.store.volumes[volume.id] = volume
        return render_volume(core, volume)


@router.get("/v1/apps/{app_name}/volumes/{volume_id}")
async def show_volume(app_name: str, volume_id: str, request: Request) -> dict[str, Any]:
    core = get_core(request)
    with core.lock:
        return render_volume(core, get_volume(core, app_name, volume_id))


@router.put("/v1/apps/{app_name}/volumes/{volume_id}")
async def update_volume(app_name: str, volume_id: str, request: Request) -> dict[str, Any]:
    core = get_core(request)
    body = await read_object(request)
    retention = opt_int(body, "snapshot_retention")
    auto_backup = opt_bool(body, "auto_backup_enabled")
    if retention is not None and not 1 <= retention <= 60:
        raise bad_request("snapshot_retention must be between 1 and 60 days")
    with core.lock:
        volume = get_volume(core, app_name, volume_id)
        if retention is not None:
            volume.snapshot_retention = retention
        if auto_backup is not None:
            volume.auto_backup_enabled = auto_backup
        return render_volume(core, volume)


@router.put("/v1/apps/{app_name}/volumes/{volume_id}/extend")
async def extend_volume(app_name: str, volume_id: str, request: Request) -> dict[str, Any]:
    core = get_core(request)
    body = await read_object(request)
    size_gb = opt_int(body, "size_gb")
    if size_gb is None:
        raise bad_request("size_gb is required")
    with core.lock:
        volume = get_volume(core, app_name, volume_id)
        if size_gb <= volume.size_gb:
            raise bad_request(
                f"size_gb {size_gb} must be larger than the current size ({volume.size_gb} GB); "
                "volumes can only grow"
            )
        if size_gb > MAX_SIZE_GB:
            raise bad_request(f"size_gb must be at most {MAX_SIZE_GB}")
        volume.size_gb = size_gb
        holder = bound_machine(core, volume)
        needs_restart = holder is not None and holder.state == "started"
        return {"volume": render_volume(core, volume), "needs_restart": needs_restart}


@router.delete("/v1/apps/{app_name}/volumes/{volume_id}")
async def delete_volume(app_name: str, volume_id: str, request: Request) -> dict[str, Any]:
    core = get_core(request)
    with core.lock:
        volume = get_volume(core, app_name, volume_id)
        holder = bound_machine(core, volume)
        if holder is not None:
            raise precondition(f"volume is currently bound to machine: {holder.id}")
        rendered = render_volume(core, volume, state="destroyed")
        del core.store.volumes[volume.id]
        return rendered


def render_snapshot(snapshot: Snapshot) -> dict[str, Any]:
    return {
        "id": snapshot.id,
        "size": snapshot.size_gb * 1024**3,
        "volume_size": snapshot.size_gb * 1024**3,
        "digest": "",
        "created_at": ids.iso(snapshot.created_at),
        "status": "created",
        "retention_days": snapshot.retention_days,
    }


@router.get("/v1/apps/{app_name}/volumes/{volume_id}/snapshots")
async def list_snapshots(app_name: str, volume_id: str, request: Request) -> list[dict[str, Any]]:
    core = get_core(request)
    with core.lock:
        volume = get_volume(core, app_name, volume_id)
        return [render_snapshot(s) for s in core.store.snapshots.values() if s.volume_id == volume.id]


@router.post("/v1/apps/{app_name}/volumes/{volume_id}/snapshots")
async def create_snapshot(app_name: str, volume_id: str, request: Request) -> dict[str, Any]:
    core = get_core(request)
    with core.lock:
        volume = get_volume(core, app_name, volume_id)
        snapshot = Snapshot(
            id=ids.snapshot_id(),
            app=app_name,
            volume_id=volume.id,
            size_gb=volume.size_gb,
            created_at=time.time(),
            retention_days=volume.snapshot_retention,
            data=copy.deepcopy(volume.data),
        )
        core.store.snapshots[snapshot.id] = snapshot
    return {}


def require_volume_for_mount(
    core: Core, app_name: str, volume_id: str, region: str, machine_id: str
) -> Volume:
    """The checks Fly makes when a machine config mounts a volume."""
    volume = core.store.volumes.get(volume_id)
    if volume is None or volume.app != app_name:
        raise bad_request(f"volume {volume_id} not found in app {app_name}")
    if volume.region != region:
        raise bad_request(
            f"volume {volume_id} is in region {volume.region}; a machine can only mount a volume in its own "
            f"region ({region})"
        )
    holder = bound_machine(core, volume)
    if holder is not None and holder.id != machine_id:
        raise FlyError(
            412, f"failed_precondition: volume {volume_id} is currently bound to machine: {holder.id}"
        )
    return volume
