"""`GET /api/spaces/{id}/logs/{build,run}`: a Space's build or container log as server-sent events.

Each line is an event `data: {"data": "<line>\\n", "timestamp": "<iso>"}`, which is what `fetch_space_logs`
reads. The stream replays what has been printed so far; while the phase it logs is live (a build in progress,
a container starting or running) it stays open and sends new lines as they are printed, and it closes once the
phase is over, a new build or container replaces the log, or `log_idle_seconds` pass without a new line. (The
Hub keeps a live stream open longer; a no-follow reader then ends on its own 5 s read timeout. Closing sooner
keeps tests fast and changes nothing a reader can rely on.)
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from starlette.responses import Response

from hub_emulator import auth, ids
from hub_emulator.core import Core, get_core
from hub_emulator.errors import HubError
from hub_emulator.repostore import visible_repo
from hub_emulator.state import LogLine, Repo
from hub_emulator.streaming import StreamResponse

router = APIRouter()
POLL_S = 0.05
MAX_STREAM_S = 600.0  # hard cap on one stream, whatever happens
LIVE = {
    "build": frozenset({"BUILDING", "RUNNING_BUILDING"}),
    "run": frozenset({"APP_STARTING", "RUNNING", "RUNNING_APP_STARTING", "RUNNING_BUILDING"}),
}


@router.get("/api/spaces/{owner}/{name}/logs/{kind}")
async def space_logs(owner: str, name: str, kind: str, request: Request) -> Response:
    if kind not in LIVE:
        raise HubError(404, f"no such log: {kind} (build or run)")
    core = get_core(request)
    with core.lock:
        caller = auth.identify(core, request)
        repo = visible_repo(core, caller, "space", f"{owner}/{name}")
        auth.check_write(caller, repo.owner, repo.private, f"Space {repo.id}")
    return StreamResponse(
        lambda: _events(core, repo, kind),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache"},
    )


def _log_of(repo: Repo, kind: str) -> list[LogLine]:
    assert repo.space is not None
    return repo.space.build_log if kind == "build" else repo.space.run_log


async def _events(core: Core, repo: Repo, kind: str) -> AsyncIterator[bytes]:
    began = time.monotonic()
    with core.lock:
        log = _log_of(repo, kind)
    sent, last_line_at = 0, began
    while time.monotonic() - began < MAX_STREAM_S:
        now = time.monotonic()
        with core.lock:
            core.advance(repo, now)
            gone = core.store.repos.get(("space", repo.id)) is not repo or _log_of(repo, kind) is not log
            fresh = [line for line in log[sent:] if line.at <= now]
            pending = len(log) - sent - len(fresh)
            assert repo.space is not None
            live = repo.space.stage in LIVE[kind]
        for line in fresh:
            event = {"data": line.text + "\n", "timestamp": ids.iso(ids.wall_of(line.at))}
            yield f"data: {json.dumps(event)}\n\n".encode()
        sent += len(fresh)
        if fresh:
            last_line_at = now
        if gone or (not live and pending == 0) or now - last_line_at >= core.settings.log_idle_seconds:
            return
        await asyncio.sleep(POLL_S)
