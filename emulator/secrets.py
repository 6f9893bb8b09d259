"""App secrets: names and digests only, a version that moves on every change.

Shapes from the OpenAPI spec (AppSecrets, AppSecretsUpdateRequest/Resp, SetAppSecretResponse) and fly-go
flaps_secrets.go: POST `{values: {NAME: "value" | null}}` sets and unsets in one call and answers
`{secrets, version}`; GET answers `{secrets}`. Values are never stored: the emulator keeps a keyed digest,
so neither the state snapshot nor the request log can hold plaintext. `show_secrets=true` therefore cannot
be answered and is refused rather than answered with something that is not the value.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from emulator import ids
from emulator.core import Core, get_core
from emulator.errors import FlyError, bad_request, not_found, precondition
from emulator.query import query_bool, query_int
from emulator.state import Secret
from standin.jsonbody import opt_obj, read_object

router = APIRouter()

SECRET_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def render_secret(secret: Secret) -> dict[str, Any]:
    return {
        "name": secret.name,
        "digest": secret.digest,
        "created_at": ids.iso(secret.created_at),
        "updated_at": ids.iso(secret.updated_at),
    }


def _app_secrets(core: Core, app_name: str) -> dict[str, Secret]:
    core.app(app_name)
    return core.store.secrets.setdefault(app_name, {})


def _read_guards(request: Request, core: Core, app_name: str) -> None:
    if query_bool(request.query_params.get("show_secrets"), "show_secrets"):
        raise FlyError(403, "show_secrets is not available: the emulator keeps digests of secret values only")
    minimum = query_int(request.query_params.get("min_version"), "min_version")
    current = core.store.secrets_version.get(app_name, 0)
    if minimum is not None and minimum > current:
        raise precondition(
            f"secrets version {minimum} is not available yet (the app is at version {current})"
        )


def _bump(core: Core, app_name: str) -> int:
    version = core.store.secrets_version.get(app_name, 0) + 1
    core.store.secrets_version[app_name] = version
    return version


def _check_name(name: str) -> None:
    if not SECRET_NAME.fullmatch(name):
        raise bad_request(f"invalid secret name {name!r}: use letters, digits and underscores")


def _set(core: Core, secrets: dict[str, Secret], name: str, value: str, now: float) -> Secret:
    existing = secrets.get(name)
    created = existing.created_at if existing else now
    secret = Secret(name, core.secret_digest(value), created, now)
    secrets[name] = secret
    return secret


@router.get("/v1/apps/{app_name}/secrets")
async def list_secrets(app_name: str, request: Request) -> dict[str, Any]:
    core = get_core(request)
    with core.lock:
        secrets = _app_secrets(core, app_name)
        _read_guards(request, core, app_name)
        return {"secrets": [render_secret(s) for s in sorted(secrets.values(), key=lambda s: s.name)]}


@router.post("/v1/apps/{app_name}/secrets")
async def update_secrets(app_name: str, request: Request) -> dict[str, Any]:
    core = get_core(request)
    body = await read_object(request)
    values = opt_obj(body, "values")
    if not values:
        raise bad_request("values is required: an object of secret names to values (null unsets)")
    for name, value in values.items():
        _check_name(name)
        if value is not None and not isinstance(value, str):
            raise bad_request(
                f"invalid value for secret {name}: expected a string or null, got {json.dumps(type(value).__name__)}"
            )
    with core.lock:
        secrets = _app_secrets(core, app_name)
        now = time.time()
        for name, value in values.items():
            if value is None:
                secrets.pop(name, None)
            else:
                _set(core, secrets, name, value, now)
        version = _bump(core, app_name)
        listed = [render_secret(s) for s in sorted(secrets.values(), key=lambda s: s.name)]
        return {"secrets": listed, "version": version, "Version": version}


@router.get("/v1/apps/{app_name}/secrets/{secret_name}")
async def show_secret(app_name: str, secret_name: str, request: Request) -> dict[str, Any]:
    core = get_core(request)
    with core.lock:
        secrets = _app_secrets(core, app_name)
        _read_guards(request, core, app_name)
        if secret_name not in secrets:
            raise not_found(f"secret {secret_name} not found")
        return render_secret(secrets[secret_name])


@router.post("/v1/apps/{app_name}/secrets/{secret_name}")
async def set_secret(app_name: str, secret_name: str, request: Request) -> JSONResponse:
    core = get_core(request)
    body = await read_object(request)
    _check_name(secret_name)
    value = body.get("value")
    if not isinstance(value, str):
        raise bad_request("value is required and must be a string")
    with core.lock:
        secrets = _app_secrets(core, app_name)
        secret = _set(core, secrets, secret_name, value, time.time())
        version = _bump(core, app_name)
        return JSONResponse(
            {**render_secret(secret), "version": version, "Version": version}, status_code=201
        )


@router.delete("/v1/apps/{app_name}/secrets/{secret_name}")
async def delete_secret(app_name: str, secret_name: str, request: Request) -> dict[str, Any]:
    core = get_core(request)
    with core.lock:
        secrets = _app_secrets(core, app_name)
        if secret_name not in secrets:
            raise not_found(f"secret {secret_name} not found")
        del secrets[secret_name]
        version = _bump(core, app_name)
        return {"version": version, "Version": version}
