"""Repo routes: create, delete, and the info of a model, dataset or Space (at `main` or any commit)."""

from __future__ import annotations

import re
import time
from typing import Any

from fastapi import APIRouter, Request

from hub_emulator import auth, card, hardware, ids, runtime
from hub_emulator.core import Core, get_core
from hub_emulator.errors import HubError, bad_request, not_modelled, repo_not_found
from hub_emulator.repostore import (
    PLURAL,
    new_repo,
    readme,
    repo_route,
    repo_type_of,
    repo_url,
    resolve,
    used_storage,
    visible_repo,
)
from hub_emulator.state import Commit, Repo, Secret, SpaceRuntimeState, Variable
from hub_emulator.volumes import check_volumes
from standin.jsonbody import JSON, opt_bool, opt_int, opt_list, opt_str, read_object, req_str

router = APIRouter()
ENV_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SPACE_FIELDS = ("sdk", "hardware", "sleepTimeSeconds", "secrets", "variables", "volumes")
_NOT_MODELLED_FIELDS = {
    "template": "Space templates",
    "resourceGroupId": "resource groups",
    "region": "regions",
}


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


# --- create / delete ------------------------------------------------------------------------------


@router.post("/api/repos/create")
async def create_repo(request: Request) -> dict[str, Any]:
    core = get_core(request)
    body = await read_object(request)
    name, namespace, repo_type = req_str(body, "name"), opt_str(body, "organization"), opt_str(body, "type")
    repo_type = repo_type or "model"
    if repo_type not in PLURAL:
        raise bad_request(f"type must be one of model, dataset, space, got {repo_type!r}")
    for key, what in _NOT_MODELLED_FIELDS.items():
        if body.get(key) is not None:
            raise not_modelled(what)
    private = _visibility(body)
    if not ids.valid_name(name):
        raise bad_request(
            f"Invalid repo name {name!r}: letters, digits, '-', '_', '.', at most 96 characters"
        )
    with core.lock:
        caller = auth.identify(core, request)
        owner = namespace or auth.require_user(caller).name
        auth.check_namespace(caller, owner, f"a {repo_type} repo")
        space = _space_settings(core, caller, body) if repo_type == "space" else None
        if repo_type != "space" and any(body.get(key) is not None for key in _SPACE_FIELDS):
            raise bad_request(
                "sdk, hardware, sleep time, secrets, variables and volumes apply to Spaces only"
            )
        repo_id = f"{owner}/{name}"
        existing = core.store.repos.get((repo_type, repo_id))
        if existing is not None:
            url = repo_url(base_url(request), existing)
            # `create_repo(exist_ok=True)` reads the existing repo's url from this answer.
            raise HubError(409, f"You already created this {repo_type} repo", extra={"url": url})
        repo = new_repo(
            core, repo_type, owner, name, private=private, sdk=opt_str(body, "sdk") if space else None
        )
        if space is not None:
            repo.space = space
            runtime.on_commit(core, repo)
        return {"url": repo_url(base_url(request), repo), "name": repo.id, "id": ids.object_id()}


def _visibility(body: JSON) -> bool:
    visibility = opt_str(body, "visibility")
    if visibility is None:
        return bool(opt_bool(body, "private"))
    if visibility == "protected":
        raise not_modelled("protected visibility")
    if visibility not in ("public", "private"):
        raise bad_request(f"visibility must be public or private, got {visibility!r}")
    return visibility == "private"


def _space_settings(core: Core, caller: auth.Caller, body: JSON) -> SpaceRuntimeState:
    sdk = opt_str(body, "sdk")
    if sdk is None:
        raise bad_request("sdk is required to create a Space")
    if sdk not in card.SPACE_SDKS:
        raise bad_request(f"sdk must be one of {', '.join(card.SPACE_SDKS)}, got {sdk!r}")
    if sdk != card.MODELLED_SDK:
        raise not_modelled(f"{sdk} Spaces (only docker Spaces are modelled)")
    flavor = body.get("hardware", hardware.FREE_FLAVOR)
    problem = hardware.check_flavor(flavor, sdk)
    if problem is not None:
        raise bad_request(problem)
    assert isinstance(flavor, str)
    now = time.time()
    secrets = {
        key: Secret(core.secret_digest(value), description, now)
        for key, value, description in _key_values(body, "secrets")
    }
    variables = {
        key: Variable(value, description, now) for key, value, description in _key_values(body, "variables")
    }
    volumes = check_volumes(core, caller, body["volumes"]) if body.get("volumes") is not None else []
    return SpaceRuntimeState(
        stage="NO_APP_FILE",
        requested_hardware=flavor,
        sleep_setting=check_sleep_time(opt_int(body, "sleepTimeSeconds")),
        secrets=secrets,
        variables=variables,
        volumes=volumes,
    )


def _key_values(body: JSON, field: str) -> list[tuple[str, str, str | None]]:
    out = []
    for index, item in enumerate(opt_list(body, field) or []):
        if not isinstance(item, dict):
            raise bad_request(f"{field}[{index}] must be an object with key and value")
        out.append(check_key_value(item, f"{field}[{index}]"))
    return out


def check_key_value(item: JSON, where: str) -> tuple[str, str, str | None]:
    key, value, description = item.get("key"), item.get("value"), item.get("description")
    if not isinstance(key, str) or not ENV_KEY.fullmatch(key):
        raise bad_request(f"{where}.key must be an environment variable name, got {key!r}")
    if not isinstance(value, str):
        raise bad_request(f"{where}.value must be a string")
    if description is not None and not isinstance(description, str):
        raise bad_request(f"{where}.description must be a string")
    return key, value, description


def check_sleep_time(seconds: int | None) -> int | None:
    if seconds is not None and seconds != -1 and seconds < 1:
        raise bad_request(f"sleep time must be -1 (never) or a positive number of seconds, got {seconds}")
    return seconds


@router.delete("/api/repos/delete")
async def delete_repo(request: Request) -> dict[str, Any]:
    core = get_core(request)
    body = await read_object(request)
    name, namespace = req_str(body, "name"), opt_str(body, "organization")
    repo_type = opt_str(body, "type") or "model"
    if repo_type not in PLURAL:
        raise bad_request(f"type must be one of model, dataset, space, got {repo_type!r}")
    with core.lock:
        caller = auth.identify(core, request)
        owner = namespace or auth.require_user(caller).name
        repo = core.store.repos.get((repo_type, f"{owner}/{name}"))
        if repo is None:
            raise repo_not_found(401 if caller.user is None else 404)
        auth.check_write(caller, repo.owner, repo.private, f"{repo_type} {repo.id}")
        del core.store.repos[(repo_type, repo.id)]
        return {}


@repo_route(router, "PUT", "/settings")
async def update_settings(owner: str, name: str, request: Request) -> dict[str, Any]:
    """`update_repo_settings`: visibility; `gated: false` is accepted (Spaces are never gated here)."""
    core = get_core(request)
    body = await read_object(request)
    unknown = set(body) - {"visibility", "private", "gated"}
    if unknown:
        raise not_modelled(f"repo settings {', '.join(sorted(unknown))}")
    if body.get("gated") not in (None, False):
        raise not_modelled("gated repos")
    with core.lock:
        caller = auth.identify(core, request)
        repo = visible_repo(core, caller, repo_type_of(request), f"{owner}/{name}")
        auth.check_write(caller, repo.owner, repo.private, f"{repo.type} {repo.id}")
        if "visibility" in body or "private" in body:
            repo.private = _visibility(body)
        return {}


# --- info -----------------------------------------------------------------------------------------


@repo_route(router, "GET", "")
async def repo_info(owner: str, name: str, request: Request) -> dict[str, Any]:
    return _info(request, f"{owner}/{name}", "main")


@repo_route(router, "GET", "/revision/{revision}")
async def repo_info_at(owner: str, name: str, revision: str, request: Request) -> dict[str, Any]:
    return _info(request, f"{owner}/{name}", revision)


def _info(request: Request, repo_id: str, revision: str) -> dict[str, Any]:
    repo_type = repo_type_of(request)
    params = request.query_params
    if params.get("securityStatus"):
        raise not_modelled("securityStatus")
    blobs = params.get("blobs", "").lower() in ("true", "1")
    core = get_core(request)
    with core.lock:
        repo = visible_repo(core, auth.identify(core, request), repo_type, repo_id)
        info = render_info(repo, resolve(repo, revision), base_url(request), blobs=blobs)
    expand = params.getlist("expand")
    if not expand:
        return info
    unknown = [key for key in expand if key not in info]
    if unknown:
        raise not_modelled(f"expand={','.join(unknown)}")
    return {"_id": info["_id"], "id": info["id"], **{key: info[key] for key in expand}}


def render_info(repo: Repo, commit: Commit, base: str, *, blobs: bool) -> dict[str, Any]:
    info: dict[str, Any] = {
        "_id": ids.tree_oid(repo.id, repo.type)[:24],
        "id": repo.id,
        "author": repo.owner,
        "sha": commit.oid,
        "lastModified": ids.iso(commit.at_wall),
        "createdAt": ids.iso(repo.created_wall),
        "private": repo.private,
        "gated": False,
        "disabled": False,
        "likes": 0,
        "tags": ["region:us"],
        "siblings": [render_sibling(path, commit, blobs) for path in sorted(commit.files)],
        "usedStorage": used_storage(commit),
    }
    meta = card.card_data(readme(commit))
    if meta is not None:
        info["cardData"] = meta
    if repo.type == "model":
        info |= {"modelId": repo.id, "downloads": 0}
    elif repo.type == "dataset":
        info |= {"downloads": 0}
    else:
        subdomain = ids.subdomain(repo.owner, repo.name)
        info |= {
            "sdk": repo.sdk,
            "tags": [repo.sdk, "region:us"],
            "subdomain": subdomain,
            "host": f"{base}/__spaces/{subdomain}",
            "runtime": runtime.render_runtime(repo),
            "models": [],
            "datasets": [],
        }
    return info


def render_sibling(path: str, commit: Commit, blobs: bool) -> dict[str, Any]:
    if not blobs:
        return {"rfilename": path}
    entry = commit.files[path]
    out: dict[str, Any] = {"rfilename": path, "size": entry.blob.size}
    if entry.lfs:
        pointer = entry.blob.lfs_pointer()
        out["blobId"] = entry.blob.lfs_pointer_oid()
        out["lfs"] = {"size": entry.blob.size, "sha256": entry.blob.sha256, "pointerSize": len(pointer)}
    else:
        out["blobId"] = entry.blob.git_oid
    return out
