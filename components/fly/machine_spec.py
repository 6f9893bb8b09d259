"""The Fly machine config a Studio machine runs with, as the Machines API takes it.

A pure function of the settings, the image and the volume, so tests can read the exact JSON.
"""

from __future__ import annotations

from typing import Any

from components.runtime import DATA_PATH, HEALTH_PATH, STUDIO_PORT, studio_env

from .settings import FlySettings

# The web process answers /api/health within a minute of boot, but a cold boot first fills the cache
# volume (about 26 GB for the runtime bundle and the base model), so checks wait that long before
# they count against the machine.
HEALTH_GRACE = "30m"
# Time Fly gives the entrypoint after SIGTERM: it allows the Studio 20 s to stop and flush its queue
# file, then kills it; the rest is margin.
STOP_TIMEOUT = "30s"
# The Studio generates one song at a time and queues the rest; a few people browsing the UI at
# once is what one machine serves well. Past the hard limit Fly's proxy queues requests.
CONCURRENCY = {"type": "requests", "soft_limit": 10, "hard_limit": 25}


def machine_env(settings: FlySettings) -> dict[str, str]:
    """What the entrypoint reads: where the cache lives, which models to fill, when to stop itself.

    On Fly the entrypoint's default idle policy (exit 0, so the machine stops) is the one wanted, so the
    platform key is left out: machines made before it existed keep an identical config."""
    env = studio_env(
        settings.platform, models=list(settings.models), idle_stop_minutes=settings.idle_stop_minutes
    )
    env.pop("SONGGEN_PLATFORM")
    return env


def guest(settings: FlySettings) -> dict[str, Any]:
    return {
        "cpu_kind": settings.cpu_kind.value,
        "cpus": settings.cpus,
        "memory_mb": settings.memory_mb,
        "gpu_kind": settings.gpu_kind.value,
        "gpus": settings.gpus,
    }


def volume_compute_hint(settings: FlySettings) -> dict[str, Any]:
    """Fly places a GPU machine's volume on a host with that GPU only when told at creation.

    Only the host class goes into the hint: a change of CPUs or memory later must not replace the
    volume (and with it the cache), while a change of GPU kind must.
    """
    return {"cpu_kind": settings.cpu_kind.value, "gpu_kind": settings.gpu_kind.value}


def machine_config(settings: FlySettings, *, image: str, volume_id: str) -> dict[str, Any]:
    return {
        "image": image,
        "env": machine_env(settings),
        "guest": guest(settings),
        "mounts": [{"volume": volume_id, "path": DATA_PATH}],
        "services": [
            {
                "protocol": "tcp",
                "internal_port": STUDIO_PORT,
                "ports": [
                    {"port": 80, "handlers": ["http"], "force_https": True},
                    {"port": 443, "handlers": ["tls", "http"]},
                ],
                "autostop": settings.autostop.value,
                "autostart": settings.autostart,
                "min_machines_running": settings.min_machines_running,
                "concurrency": dict(CONCURRENCY),
                "checks": [
                    {
                        "type": "http",
                        "port": STUDIO_PORT,
                        "method": "GET",
                        "path": HEALTH_PATH,
                        "interval": "30s",
                        "timeout": "10s",
                        "grace_period": HEALTH_GRACE,
                    }
                ],
            }
        ],
        # The entrypoint exits 0 when it stops the machine after idling; only a crash restarts it.
        "restart": {"policy": "on-failure", "max_retries": 3},
        "stop_config": {"signal": "SIGTERM", "timeout": STOP_TIMEOUT},
    }
