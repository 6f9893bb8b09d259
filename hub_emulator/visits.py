"""A Space's host: `space_info().host` is `<endpoint>/__spaces/<subdomain>` (the Hub's `https://<subdomain>.hf.space`).

Any request under it is a visit: it is recorded in the request log (kind "visit", with the Space's id), it
resets the sleep timer, and it wakes a sleeping (STOPPED) Space, which starts again (APP_STARTING -> RUNNING)
while the visit itself gets 503. A PAUSED Space stays paused. While an app serves (RUNNING, or an old app during
RUNNING_BUILDING / RUNNING_APP_STARTING) a visit answers 200 with JSON naming the Space, the commit its app runs
and the path asked for (the stand-in runs no app of its own); in any other stage it answers 503. A private Space
answers only a token of its owner or of a member of its owning organisation (a read token is enough), and 404 to
anyone else, as if it did not exist.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from hub_emulator import auth, ids, lifecycle, runtime
from hub_emulator.core import Core, get_core
from hub_emulator.errors import HubError
from hub_emulator.state import Repo

router = APIRouter()
PREFIX = "/__spaces"
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def find_space(core: Core, subdomain: str) -> Repo | None:
    for (repo_type, _), repo in core.store.repos.items():
        if repo_type == "space" and ids.subdomain(repo.owner, repo.name) == subdomain:
            return repo
    return None


def space_for_path(core: Core, path: str) -> str | None:
    parts = path.split("/")
    if len(parts) < 3:
        return None
    with core.lock:
        repo = find_space(core, parts[2])
        return repo.id if repo is not None else None


@router.api_route(PREFIX + "/{subdomain}", methods=ALL_METHODS)
async def visit_root(subdomain: str, request: Request) -> JSONResponse:
    return _visit(request, subdomain, "")


@router.api_route(PREFIX + "/{subdomain}/{path:path}", methods=ALL_METHODS)
async def visit(subdomain: str, path: str, request: Request) -> JSONResponse:
    return _visit(request, subdomain, path)


def _visit(request: Request, subdomain: str, path: str) -> JSONResponse:
    core = get_core(request)
    with core.lock:
        repo = find_space(core, subdomain)
        caller = auth.identify(core, request)
        if repo is None or (repo.private and not caller.member_of(repo.owner)):
            raise HubError(404, f"No Space is served at {subdomain}")
        now = time.monotonic()
        core.advance(repo, now)
        space = runtime.space_of(repo)
        space.visits += 1
        space.last_visit = now
        answer: dict[str, Any] = {"space": repo.id, "stage": space.stage, "path": "/" + path}
        if space.stage in lifecycle.SERVING:
            return JSONResponse({**answer, "sha": space.running_sha, "method": request.method})
        if runtime.wake(core, repo):
            return JSONResponse({**answer, "error": "This Space is waking up"}, status_code=503)
        return JSONResponse(
            {**answer, "error": f"This Space is not running ({space.stage})"}, status_code=503
        )
