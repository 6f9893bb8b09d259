"""The machine config JSON a Studio machine is created with."""

from __future__ import annotations

from typing import Any

from components.fly.machine_spec import machine_config
from components.runtime import DATA_PATH, STUDIO_PORT
from tests.fly_settings import fly_settings


def config_for(**raw: str) -> dict[str, Any]:
    settings = fly_settings("dev", raw)
    return machine_config(settings, image="registry.fly.io/app@sha256:" + "0" * 64, volume_id="vol_123")


def test_guest_is_the_a10_class_spec() -> None:
    assert config_for()["guest"] == {
        "cpu_kind": "performance",
        "cpus": 8,
        "memory_mb": 65536,
        "gpu_kind": "a10",
        "gpus": 1,
    }


def test_the_cache_volume_is_mounted_at_data_and_the_entrypoint_is_told_what_to_fill() -> None:
    config = config_for(models='["base", "base-full"]', volumeSizeGb="60", idleStopMinutes="30")
    assert config["mounts"] == [{"volume": "vol_123", "path": DATA_PATH}]
    env = config["env"]
    assert env["SONGGEN_DATA_DIR"] == "/data"
    assert env["SONGGEN_MODELS"] == "base,base-full"
    assert env["SONGGEN_IDLE_STOP_MINUTES"] == "30"
    assert env["PORT"] == str(STUDIO_PORT)
    assert "HF_TOKEN" not in env  # secrets reach the machine as Fly secrets, never as plain env


def test_services_route_80_and_443_with_tls_and_the_stack_autostop_settings() -> None:
    (service,) = config_for(autostop="stop", minMachinesRunning="1")["services"]
    assert service["internal_port"] == STUDIO_PORT
    assert service["ports"] == [
        {"port": 80, "handlers": ["http"], "force_https": True},
        {"port": 443, "handlers": ["tls", "http"]},
    ]
    assert (service["autostop"], service["autostart"], service["min_machines_running"]) == ("stop", True, 1)
    assert service["concurrency"]["type"] == "requests"
    (check,) = service["checks"]
    assert (check["type"], check["path"], check["port"]) == ("http", "/api/health", STUDIO_PORT)
    assert check["grace_period"] == "30m"


def test_a_machine_that_stops_itself_is_not_restarted() -> None:
    config = config_for()
    assert config["restart"] == {"policy": "on-failure", "max_retries": 3}
    assert config["stop_config"] == {"signal": "SIGTERM", "timeout": "30s"}
