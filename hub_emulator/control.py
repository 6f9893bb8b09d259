"""The control surface under /__hub/: the routes every stand-in has (standin.control: health, state, billable,
requests, faults, settings, reset) and the Hub's own fixtures and views. No auth, no latency, no faults, and
not recorded in the request log: it is the test harness, not the Hub.

File contents travel as one of `{"text": "..."}`, `{"base64": "..."}` or `{"synthetic": {"size": N, "seed": S}}`.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from fastapi import Request

from hub_emulator import fixtures, introspect
from hub_emulator.blobs import Content, synthetic
from hub_emulator.core import Core, get_core
from hub_emulator.errors import bad_request
from standin.control import control_router
from standin.jsonbody import opt_bool, opt_int, opt_list, opt_str, read_object, req_str

PREFIX = "/__hub"
router = control_router(
    PREFIX,
    service="Hugging Face Hub stand-in",
    core_type=Core,
    state=introspect.state_snapshot,
    billable=introspect.billable,
    apply_settings=introspect.apply_settings,
)


def content_of(obj: object, where: str) -> Content:
    if not isinstance(obj, dict) or len(obj) != 1:
        raise bad_request(f"{where} must be one of {{text}}, {{base64}} or {{synthetic: {{size, seed}}}}")
    ((kind, value),) = obj.items()
    if kind == "text" and isinstance(value, str):
        return value
    if kind == "base64" and isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise bad_request(f"{where}.base64 is not valid base64") from None
    if kind == "synthetic" and isinstance(value, dict):
        size, seed = opt_int(value, "size"), opt_int(value, "seed") or 0
        if size is None or size < 0:
            raise bad_request(f"{where}.synthetic.size must be a byte count")
        return synthetic(size, seed)
    raise bad_request(f"{where}: unknown content {kind!r}")


def _lines(body: dict[str, Any]) -> list[str]:
    lines = opt_list(body, "lines") or []
    if not all(isinstance(line, str) for line in lines):
        raise bad_request("lines must be an array of strings")
    return lines


@router.get("/leftovers")
async def leftovers(request: Request) -> dict[str, Any]:
    return {"leftovers": introspect.leftovers(get_core(request))}


@router.post("/users")
async def add_user(request: Request) -> dict[str, Any]:
    body = await read_object(request)
    orgs = opt_list(body, "orgs") or []
    if not all(isinstance(org, str) for org in orgs):
        raise bad_request("orgs must be an array of names")
    fixtures.add_user(get_core(request), req_str(body, "name"), orgs=orgs, fullname=opt_str(body, "fullname"))
    return {"ok": True}


@router.post("/tokens")
async def add_token(request: Request) -> dict[str, Any]:
    """Body: {user, role?, label?, token?}; without `token`, one is generated and returned."""
    body = await read_object(request)
    core, user = get_core(request), req_str(body, "user")
    role, label, token = opt_str(body, "role") or "write", opt_str(body, "label"), opt_str(body, "token")
    if token is not None:
        fixtures.add_token(core, token, user, role, label)
        return {"ok": True}
    return {"ok": True, "token": fixtures.new_token(core, user, role, label)}


@router.post("/repos")
async def add_repo(request: Request) -> dict[str, Any]:
    """Body: {repo_id, repo_type?, private?, files: {path: content}, lfs?: [paths]}."""
    body = await read_object(request)
    raw_files = body.get("files")
    if not isinstance(raw_files, dict):
        raise bad_request("files must be an object of path -> content")
    files = {path: content_of(value, f"files[{path!r}]") for path, value in raw_files.items()}
    lfs = opt_list(body, "lfs")
    sha = fixtures.add_repo(
        get_core(request),
        req_str(body, "repo_id"),
        files,
        repo_type=opt_str(body, "repo_type") or "model",
        private=bool(opt_bool(body, "private")),
        lfs=None if lfs is None else [str(p) for p in lfs],
    )
    return {"sha": sha}


@router.post("/buckets")
async def add_bucket(request: Request) -> dict[str, Any]:
    body = await read_object(request)
    fixtures.add_bucket(
        get_core(request), req_str(body, "bucket_id"), private=bool(opt_bool(body, "private"))
    )
    return {"ok": True}


@router.put("/buckets/{namespace}/{name}/files/{path:path}")
async def put_bucket_file(namespace: str, name: str, path: str, request: Request) -> dict[str, Any]:
    content = content_of(await read_object(request), "body")
    fixtures.put_bucket_file(get_core(request), f"{namespace}/{name}", path, content)
    return {"ok": True}


@router.get("/buckets/{namespace}/{name}/files")
async def list_bucket_files(namespace: str, name: str, request: Request) -> dict[str, int]:
    return fixtures.bucket_files(get_core(request), f"{namespace}/{name}")


@router.post("/spaces/{namespace}/{name}/fail-builds")
async def fail_builds(namespace: str, name: str, request: Request) -> dict[str, Any]:
    body = await read_object(request)
    fixtures.plan_failures(
        get_core(request), "build", f"{namespace}/{name}", _lines(body), opt_int(body, "times")
    )
    return {"ok": True}


@router.post("/spaces/{namespace}/{name}/fail-starts")
async def fail_starts(namespace: str, name: str, request: Request) -> dict[str, Any]:
    body = await read_object(request)
    fixtures.plan_failures(
        get_core(request), "start", f"{namespace}/{name}", _lines(body), opt_int(body, "times")
    )
    return {"ok": True}


@router.delete("/spaces/{namespace}/{name}/failures")
async def clear_failures(namespace: str, name: str, request: Request) -> dict[str, Any]:
    fixtures.clear_failures(get_core(request), f"{namespace}/{name}")
    return {"ok": True}


@router.post("/spaces/{namespace}/{name}/run-log")
async def append_run_log(namespace: str, name: str, request: Request) -> dict[str, Any]:
    fixtures.append_run_log(get_core(request), f"{namespace}/{name}", _lines(await read_object(request)))
    return {"ok": True}
