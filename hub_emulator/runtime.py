"""What happens to a Space's runtime when its repo or settings change, and how the runtime is rendered.

The stage machine itself is lifecycle.py; this module decides which transition an event causes (a commit, a
restart, a hardware or volume change, a visit to a sleeping Space) and consumes the failures a test planned.
"""

from __future__ import annotations

import time
from typing import Any

from hub_emulator import card, lifecycle
from hub_emulator.core import Core
from hub_emulator.errors import bad_request
from hub_emulator.repostore import readme
from hub_emulator.state import Commit, FailurePlan, Repo, SpaceRuntimeState

DOCKERFILE = "Dockerfile"


def space_of(repo: Repo) -> SpaceRuntimeState:
    assert repo.space is not None, f"{repo.id} is not a Space"
    return repo.space


def on_commit(core: Core, repo: Repo) -> None:
    """Every commit to a Space rebuilds it, unless its configuration or app file says there is nothing to run."""
    space = space_of(repo)
    unrunnable = _unrunnable(repo)
    if unrunnable is not None:
        stage, reason = unrunnable
        lifecycle.settle(space, stage, reason if stage == "CONFIG_ERROR" else None)
        return
    if space.stage == "PAUSED":
        return  # built when the owner restarts it
    _build(core, repo, keep_serving=True)


def restart(core: Core, repo: Repo, *, factory: bool) -> None:
    space = space_of(repo)
    unrunnable = _unrunnable(repo)
    if unrunnable is not None:
        stage, reason = unrunnable
        raise bad_request(f"Cannot restart this Space ({stage}): {reason}")
    if factory or space.built_sha != repo.head.oid:
        _build(core, repo, keep_serving=False)
    else:
        lifecycle.start(space, time.monotonic(), core.timing(), start_failure=_take(core, "start", repo.id))


def restart_if_started(core: Core, repo: Repo) -> None:
    """A hardware or volume change takes effect by restarting a container that is (being) started."""
    space = space_of(repo)
    if space.stage in lifecycle.STARTED:
        lifecycle.start(space, time.monotonic(), core.timing(), start_failure=_take(core, "start", repo.id))


def wake(core: Core, repo: Repo) -> bool:
    """A visit to a sleeping Space starts it again (a restart: the visit itself is not served)."""
    space = space_of(repo)
    if space.stage != "STOPPED":
        return False
    lifecycle.start(space, time.monotonic(), core.timing(), start_failure=_take(core, "start", repo.id))
    return True


def pause(repo: Repo) -> None:
    lifecycle.settle(space_of(repo), "PAUSED")


def _unrunnable(repo: Repo) -> tuple[str, str] | None:
    """(stage, reason) when the head commit has nothing the Space could run."""
    problem = card.space_config_problem(readme(repo.head))
    if problem is not None:
        return "CONFIG_ERROR", problem
    if DOCKERFILE not in repo.head.files:
        return "NO_APP_FILE", f"no {DOCKERFILE} at the root of the repo"
    return None


def _build(core: Core, repo: Repo, *, keep_serving: bool) -> None:
    build_failure = _take(core, "build", repo.id)
    lifecycle.build(
        space_of(repo),
        repo.head.oid,
        time.monotonic(),
        core.timing(),
        dockerfile_steps=dockerfile_steps(repo.head),
        build_failure=build_failure,
        start_failure=None if build_failure is not None else _take(core, "start", repo.id),
        keep_serving=keep_serving,
    )


def _take(core: Core, kind: str, space_id: str) -> list[str] | None:
    plans = core.store.failing_builds if kind == "build" else core.store.failing_starts
    plan: FailurePlan | None = plans.get(space_id)
    if plan is None:
        return None
    if plan.remaining is not None:
        plan.remaining -= 1
        if plan.remaining <= 0:
            del plans[space_id]
    return list(plan.lines)


def dockerfile_steps(commit: Commit) -> list[str]:
    """The Dockerfile's instructions, one per build log line (continuation lines joined)."""
    entry = commit.files.get(DOCKERFILE)
    if entry is None:
        return []
    steps: list[str] = []
    pending = ""
    for raw in entry.blob.read().decode("utf-8", errors="replace").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        steps.append((pending + line).strip())
        pending = ""
    if pending:
        steps.append(pending.strip())
    return steps


def render_runtime(repo: Repo) -> dict[str, Any]:
    """`GET /api/spaces/{id}/runtime` as `huggingface_hub.SpaceRuntime` parses it."""
    space = space_of(repo)
    out: dict[str, Any] = {
        "stage": space.stage,
        "hardware": {"current": space.current_hardware, "requested": space.requested_hardware},
        "storage": None,
        "gcTimeout": lifecycle.effective_sleep_seconds(space),
        "replicas": {"current": 1 if space.stage in lifecycle.SERVING else 0, "requested": 1},
        "devMode": False,
        "sha": space.running_sha,
    }
    if space.volumes:
        out["volumes"] = [dict(v) for v in space.volumes]
    if space.error_message is not None:
        out["errorMessage"] = space.error_message
    return out
