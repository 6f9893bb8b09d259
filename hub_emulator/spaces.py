"""Space settings and runtime: hardware, sleep time, secrets, variables, volumes, pause, restart, runtime.

Every route but `GET .../runtime` and the hardware list changes or reveals settings, so it needs write access
to the Space (the settings page's rule). Secret values are write-only: no route returns them. Changing secrets
or variables does not restart the Space; they reach the app at its next start or build.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request

from hub_emulator import auth, hardware, runtime
from hub_emulator.core import Core, get_core
from hub_emulator.errors import HubError, bad_request, not_modelled
from hub_emulator.ids import iso
from hub_emulator.repos import check_key_value, check_sleep_time
from hub_emulator.repostore import visible_repo
from hub_emulator.state import Repo, Secret, Variable
from hub_emulator.volumes import check_volumes
from standin.jsonbody import opt_int, read_object, req_str

router = APIRouter()
SPACE = "/api/spaces/{owner}/{name}"


@router.get("/api/spaces/hardware")
async def list_hardware() -> list[dict[str, Any]]:
    return [flavor.render() for flavor in hardware.FLAVORS.values()]


def _space(core: Core, request: Request, owner: str, name: str, *, write: bool) -> Repo:
    caller = auth.identify(core, request)
    repo = visible_repo(core, caller, "space", f"{owner}/{name}")
    if write:
        auth.check_write(caller, repo.owner, repo.private, f"Space {repo.id}")
    return repo


@router.get(SPACE + "/runtime")
async def get_runtime(owner: str, name: str, request: Request) -> dict[str, Any]:
    core = get_core(request)
    with core.lock:
        return runtime.render_runtime(_space(core, request, owner, name, write=False))


@router.post(SPACE + "/hardware")
async def request_hardware(owner: str, name: str, request: Request) -> dict[str, Any]:
    core = get_core(request)
    body = await read_object(request)
    flavor = req_str(body, "flavor")
    sleep = check_sleep_time(opt_int(body, "sleepTimeSeconds"))
    with core.lock:
        repo = _space(core, request, owner, name, write=True)
        problem = hardware.check_flavor(flavor, repo.sdk)
        if problem is not None:
            raise bad_request(problem)
        space = runtime.space_of(repo)
        changed = space.requested_hardware != flavor
        space.requested_hardware = flavor
        if sleep is not None:
            space.sleep_setting = sleep
        if changed:
            runtime.restart_if_started(core, repo)
        return runtime.render_runtime(repo)


@router.post(SPACE + "/sleeptime")
async def set_sleep_time(owner: str, name: str, request: Request) -> dict[str, Any]:
    core = get_core(request)
    seconds = opt_int(await read_object(request), "seconds")
    if seconds is None:
        raise bad_request("seconds is required")
    with core.lock:
        repo = _space(core, request, owner, name, write=True)
        runtime.space_of(repo).sleep_setting = check_sleep_time(seconds)
        core.advance(repo)  # a shorter sleep time may already have run out
        return runtime.render_runtime(repo)


@router.post(SPACE + "/pause")
async def pause(owner: str, name: str, request: Request) -> dict[str, Any]:
    core = get_core(request)
    with core.lock:
        repo = _space(core, request, owner, name, write=True)
        runtime.pause(repo)
        return runtime.render_runtime(repo)


@router.post(SPACE + "/restart")
async def restart(owner: str, name: str, request: Request) -> dict[str, Any]:
    core = get_core(request)
    factory = request.query_params.get("factory", "").lower() == "true"
    with core.lock:
        repo = _space(core, request, owner, name, write=True)
        runtime.restart(core, repo, factory=factory)
        return runtime.render_runtime(repo)


@router.post(SPACE + "/dev-mode")
async def dev_mode(owner: str, name: str) -> None:
    raise not_modelled("dev mode")


# --- secrets and variables ----------------------------------------------------------------------------


@router.get(SPACE + "/secrets")
async def list_secrets(owner: str, name: str, request: Request) -> dict[str, Any]:
    core = get_core(request)
    with core.lock:
        space = runtime.space_of(_space(core, request, owner, name, write=True))
        return {
            key: {"description": s.description, "updatedAt": iso(s.updated_wall)}
            for key, s in sorted(space.secrets.items())
        }


@router.post(SPACE + "/secrets")
async def add_secret(owner: str, name: str, request: Request) -> dict[str, Any]:
    core = get_core(request)
    key, value, description = check_key_value(await read_object(request), "secret")
    with core.lock:
        space = runtime.space_of(_space(core, request, owner, name, write=True))
        space.secrets[key] = Secret(core.secret_digest(value), description, time.time())
        return {}


@router.delete(SPACE + "/secrets")
async def delete_secret(owner: str, name: str, request: Request) -> dict[str, Any]:
    core = get_core(request)
    key = req_str(await read_object(request), "key")
    with core.lock:
        space = runtime.space_of(_space(core, request, owner, name, write=True))
        if space.secrets.pop(key, None) is None:
            raise HubError(404, f"Secret {key} not found in this Space")
        return {}


def _variables(repo: Repo) -> dict[str, Any]:
    return {
        key: {"value": v.value, "description": v.description, "updatedAt": iso(v.updated_wall)}
        for key, v in sorted(runtime.space_of(repo).variables.items())
    }


@router.get(SPACE + "/variables")
async def list_variables(owner: str, name: str, request: Request) -> dict[str, Any]:
    core = get_core(request)
    with core.lock:
        return _variables(_space(core, request, owner, name, write=True))


@router.post(SPACE + "/variables")
async def add_variable(owner: str, name: str, request: Request) -> dict[str, Any]:
    core = get_core(request)
    key, value, description = check_key_value(await read_object(request), "variable")
    with core.lock:
        repo = _space(core, request, owner, name, write=True)
        runtime.space_of(repo).variables[key] = Variable(value, description, time.time())
        return _variables(repo)


@router.delete(SPACE + "/variables")
async def delete_variable(owner: str, name: str, request: Request) -> dict[str, Any]:
    core = get_core(request)
    key = req_str(await read_object(request), "key")
    with core.lock:
        repo = _space(core, request, owner, name, write=True)
        if runtime.space_of(repo).variables.pop(key, None) is None:
            raise HubError(404, f"Variable {key} not found in this Space")
        return _variables(repo)


# --- volumes ---------------------------------------------------------------------------------------------


@router.put(SPACE + "/volumes")
async def set_volumes(owner: str, name: str, request: Request) -> dict[str, Any]:
    core = get_core(request)
    body = await read_object(request)
    if "volumes" not in body:
        raise bad_request("volumes is required (an array; DELETE removes them all)")
    with core.lock:
        caller = auth.identify(core, request)
        repo = _space(core, request, owner, name, write=True)
        volumes = check_volumes(core, caller, body["volumes"])
        _replace_volumes(core, repo, volumes)
        return {}


@router.delete(SPACE + "/volumes")
async def delete_volumes(owner: str, name: str, request: Request) -> dict[str, Any]:
    core = get_core(request)
    with core.lock:
        _replace_volumes(core, _space(core, request, owner, name, write=True), [])
        return {}


def _replace_volumes(core: Core, repo: Repo, volumes: list[dict[str, Any]]) -> None:
    space = runtime.space_of(repo)
    if volumes != space.volumes:
        space.volumes = volumes
        runtime.restart_if_started(core, repo)
