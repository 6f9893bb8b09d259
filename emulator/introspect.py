"""What tests and tools may read and switch: the state snapshot, the billable summary, the settings.

Shared by the Python API (server.FlyEmulator) and the HTTP control surface (control.py) so both say the
same thing.
"""

from __future__ import annotations

import copy
from typing import Any

from emulator.apps import APP_NAME, ORG_SLUG, render_app
from emulator.core import Core
from emulator.errors import FlyError, bad_request, not_found
from emulator.ips import ip_snapshot
from emulator.machines import machine_snapshot
from emulator.secrets import render_secret
from emulator.volumes import render_snapshot, render_volume
from standin import settings

SETTINGS: dict[str, settings.Check] = {
    "gpus_offered": settings.boolean(),
    "rate_limit": settings.boolean(),
    "latency": settings.number(minimum=0.0),
    "boot_seconds": settings.number(minimum=0.0),
    "transition_seconds": settings.number(minimum=0.0),
    "volume_detach_seconds": settings.number(minimum=0.0),
}


def state_snapshot(core: Core) -> dict[str, Any]:
    """Plain JSON: everything the API holds, plus what it hides (secret versions, volume data).

    Secrets appear as names and keyed digests; the accepted token appears nowhere.
    """
    with core.lock:
        core.advance_all()
        store = core.store
        apps = {}
        for app in store.apps.values():
            apps[app.name] = {
                **render_app(core, app),
                "secrets": {
                    "version": store.secrets_version.get(app.name, 0),
                    "secrets": [render_secret(s) for s in store.secrets.get(app.name, {}).values()],
                },
            }
        volumes = {
            v.id: {
                **render_volume(core, v),
                "app": v.app,
                "compute": copy.deepcopy(v.compute),
                "source_volume_id": v.source_volume_id,
                "snapshot_id": v.snapshot_id,
                "data": copy.deepcopy(v.data),
            }
            for v in store.volumes.values()
        }
        return {
            "emulation": True,
            "settings": core.settings.snapshot(),
            "token_required": core.token_required,
            "orgs": dict(store.orgs),
            "reserved_app_names": sorted(store.reserved_names),
            "failing_images": sorted(store.failing_images),
            "apps": apps,
            "machines": {m.id: machine_snapshot(core, m) for m in store.machines.values()},
            "volumes": volumes,
            "snapshots": {
                s.id: {**render_snapshot(s), "app": s.app, "volume_id": s.volume_id}
                for s in store.snapshots.values()
            },
            "ips": [ip_snapshot(ip) for ip in store.ips],
            "faults": core.faults.snapshot(),
        }


def billable(core: Core) -> list[str]:
    """One line per thing that exists and costs money (or holds a paid-for resource); empty when clean."""
    with core.lock:
        core.advance_all()
        store = core.store
        out = [f"app {a.name} (org {a.org})" for a in store.apps.values()]
        out += [
            f"machine {m.id} in app {m.app} ({m.state}, {m.region})"
            for m in store.machines.values()
            if m.state != "destroyed"
        ]
        out += [f"volume {v.id} in app {v.app} ({v.size_gb} GB, {v.region})" for v in store.volumes.values()]
        out += [f"snapshot {s.id} of volume {s.volume_id} in app {s.app}" for s in store.snapshots.values()]
        out += [f"ip {ip.ip} in app {ip.app} ({ip.type})" for ip in store.ips]
        return out


def apply_settings(core: Core, changes: dict[str, Any]) -> dict[str, Any]:
    return settings.apply_settings(core, SETTINGS, changes)


def reserve_app_name(core: Core, name: str) -> None:
    if not APP_NAME.fullmatch(name):
        raise bad_request(f"invalid app name {name!r}")
    with core.lock:
        if name in core.store.apps:
            raise FlyError(409, f"app {name} already exists in this emulator; delete it first")
        core.store.reserved_names.add(name)


def add_org(core: Core, slug: str, name: str | None = None) -> None:
    if not ORG_SLUG.fullmatch(slug):
        raise bad_request(f"invalid org slug {slug!r}")
    with core.lock:
        core.store.orgs[slug] = name or slug


def add_failing_image(core: Core, image: str) -> None:
    if not image:
        raise bad_request("image is required")
    with core.lock:
        core.store.failing_images.add(image)


def volume_data(core: Core, app_name: str, volume_id: str) -> dict[str, Any]:
    with core.lock:
        volume = core.store.volumes.get(volume_id)
        if volume is None or volume.app != app_name:
            raise not_found(f"volume {volume_id} not found in app {app_name}")
        return copy.deepcopy(volume.data)


def set_volume_data(core: Core, app_name: str, volume_id: str, data: dict[str, Any]) -> None:
    if not isinstance(data, dict):
        raise bad_request("volume data must be a JSON object")
    with core.lock:
        volume = core.store.volumes.get(volume_id)
        if volume is None or volume.app != app_name:
            raise not_found(f"volume {volume_id} not found in app {app_name}")
        volume.data = copy.deepcopy(data)
