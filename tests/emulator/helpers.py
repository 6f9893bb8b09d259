"""Small request builders shared by the emulator tests."""

from __future__ import annotations

from typing import Any

import httpx

APP = "songgen-test"
REGION = "ord"
# What SongGeneration Studio needs without a GPU: performance-8x with 64 GB.
CPU_GUEST = {"cpu_kind": "performance", "cpus": 8, "memory_mb": 65536}
GPU_GUEST = {"cpu_kind": "performance", "cpus": 8, "memory_mb": 32768, "gpu_kind": "a10", "gpus": 1}
IMAGE = "registry.fly.io/songgen-test:deployment-1"


def create_app(client: httpx.Client, name: str = APP, org: str = "personal") -> dict[str, Any]:
    response = client.post("/apps", json={"name": name, "org_slug": org})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def create_volume(client: httpx.Client, app: str = APP, **fields: Any) -> dict[str, Any]:
    payload = {"name": "models", "region": REGION, "size_gb": 10, **fields}
    response = client.post(f"/apps/{app}/volumes", json=payload)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def machine_config(image: str = IMAGE, **extra: Any) -> dict[str, Any]:
    return {"image": image, "guest": dict(CPU_GUEST), **extra}


def create_machine(client: httpx.Client, app: str = APP, **fields: Any) -> dict[str, Any]:
    payload = {"region": REGION, "config": machine_config(), **fields}
    response = client.post(f"/apps/{app}/machines", json=payload)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def wait(client: httpx.Client, app: str, machine_id: str, state: str, timeout: int = 5) -> httpx.Response:
    return client.get(f"/apps/{app}/machines/{machine_id}/wait", params={"state": state, "timeout": timeout})


def wait_ok(client: httpx.Client, app: str, machine_id: str, state: str) -> dict[str, Any]:
    response = wait(client, app, machine_id, state)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def get_machine(client: httpx.Client, app: str, machine_id: str) -> dict[str, Any]:
    response = client.get(f"/apps/{app}/machines/{machine_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
