"""The emulator's data model: plain dataclasses, no behaviour beyond small derived properties.

All mutation happens under `Core.lock` (see core.py); the request handlers run on the server's event loop
thread while tests read and switch things from their own thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Settings:
    gpus_offered: bool = False  # Fly stopped offering GPU Machines on 2026-08-01.
    latency: float = 0.0  # seconds added to every API call
    rate_limit: bool = False
    boot_seconds: float = 0.1  # starting -> started
    transition_seconds: float = 0.05  # every other transition (stopping, replacing, destroying, ...)
    volume_detach_seconds: float = 0.0  # how long a destroyed machine keeps its volume bound

    def snapshot(self) -> dict[str, Any]:
        return {
            "gpus_offered": self.gpus_offered,
            "latency": self.latency,
            "rate_limit": self.rate_limit,
            "boot_seconds": self.boot_seconds,
            "transition_seconds": self.transition_seconds,
            "volume_detach_seconds": self.volume_detach_seconds,
        }


@dataclass
class App:
    name: str
    id: str
    org: str
    network: str
    created_at: float
    internal_numeric_id: int


@dataclass
class Volume:
    id: str
    app: str
    name: str
    region: str
    zone: str
    size_gb: int
    encrypted: bool
    fstype: str
    snapshot_retention: int
    auto_backup_enabled: bool
    created_at: float
    compute: dict[str, Any] | None = None
    source_volume_id: str | None = None
    snapshot_id: str | None = None
    attached_machine_id: str | None = None
    # Opaque contents marker: tests write it through the control surface and check it survives
    # machine updates and is copied by forks and snapshot restores.
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Snapshot:
    id: str
    app: str
    volume_id: str
    size_gb: int
    created_at: float
    retention_days: int
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class MachineEvent:
    id: str
    type: str
    status: str
    source: str
    timestamp_ms: int


@dataclass
class Step:
    """A transition scheduled on the monotonic clock, applied lazily when the machine is next observed."""

    due: float
    state: str
    event_type: str
    source: str = "flyd"


@dataclass
class Lease:
    nonce: str
    owner: str
    description: str
    expires_at: float  # unix seconds
    version: str


@dataclass
class Machine:
    id: str
    app: str
    name: str
    region: str
    state: str
    instance_id: str
    config: dict[str, Any]
    created_at: float
    updated_at: float
    private_ip: str
    image_ref: dict[str, Any]
    events: list[MachineEvent] = field(default_factory=list)
    timeline: list[Step] = field(default_factory=list)
    versions: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    lease: Lease | None = None
    config_version: int = 1
    min_secrets_version: int | None = None
    secrets_version: int | None = None
    cordoned: bool = False
    destroyed_at: float | None = None  # monotonic; drives the volume detach delay

    @property
    def has_gpu(self) -> bool:
        guest = self.config.get("guest") or {}
        return bool(guest.get("gpu_kind")) or int(guest.get("gpus") or 0) > 0


@dataclass
class Secret:
    name: str
    digest: str
    created_at: float
    updated_at: float


@dataclass
class IPAssignment:
    ip: str
    app: str
    type: str
    region: str
    shared: bool
    service_name: str
    created_at: float


@dataclass
class Store:
    apps: dict[str, App] = field(default_factory=dict)
    # Names held by apps in organisations this token cannot see (the namespace is global).
    reserved_names: set[str] = field(default_factory=set)
    orgs: dict[str, str] = field(default_factory=lambda: {"personal": "Personal"})
    volumes: dict[str, Volume] = field(default_factory=dict)
    snapshots: dict[str, Snapshot] = field(default_factory=dict)
    machines: dict[str, Machine] = field(default_factory=dict)
    ips: list[IPAssignment] = field(default_factory=list)
    secrets: dict[str, dict[str, Secret]] = field(default_factory=dict)
    secrets_version: dict[str, int] = field(default_factory=dict)
    # Images whose machines crash on boot and end up `failed`.
    failing_images: set[str] = field(default_factory=set)
    next_numeric_id: int = 1000
