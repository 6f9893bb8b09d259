"""Looking machines up and rendering them the way the API returns them; shared by the machine routes."""

from __future__ import annotations

from emulator import ids, lifecycle, machine_config
from emulator.core import Core
from emulator.errors import not_found, precondition
from emulator.state import Machine
from standin.jsonbody import JSON

BASE = "/v1/apps/{app_name}/machines"
ONE = BASE + "/{machine_id}"


def get_machine(core: Core, app_name: str, machine_id: str) -> Machine:
    core.app(app_name)
    machine = core.store.machines.get(machine_id)
    if machine is None or machine.app != app_name:
        raise not_found("machine not found")
    lifecycle.advance(machine)
    return machine


def render_config(core: Core, machine: Machine) -> JSON:
    config = machine_config.render(machine.config)
    for mount in config.get("mounts", []):
        volume = core.store.volumes.get(mount.get("volume", ""))
        if volume is not None:
            mount.update(name=volume.name, size_gb=volume.size_gb, encrypted=volume.encrypted)
    return config


def render_machine(core: Core, machine: Machine, *, summary: bool = False) -> JSON:
    out: JSON = {
        "id": machine.id,
        "name": machine.name,
        "state": machine.state,
        "region": machine.region,
        "instance_id": machine.instance_id,
        "version": machine.instance_id,
        "private_ip": machine.private_ip,
        "image_ref": dict(machine.image_ref),
        "created_at": ids.iso(machine.created_at),
        "updated_at": ids.iso(machine.updated_at),
        "host_status": "ok",
        "cordoned": machine.cordoned,
    }
    if not summary:
        out["config"] = render_config(core, machine)
        out["checks"] = []
        out["events"] = [
            {"id": e.id, "type": e.type, "status": e.status, "source": e.source, "timestamp": e.timestamp_ms}
            for e in reversed(machine.events[-20:])
        ]
    return out


def not_gone(machine: Machine, action: str) -> None:
    if machine.state in ("destroying", "destroyed"):
        raise precondition(f"unable to {action} machine {machine.id}: it is {machine.state}")
