"""The Space stage machine, advanced by time.

Each operation puts the Space into its first stage at once (the API answers with that stage) and schedules the
rest on the monotonic clock; `advance` applies whatever is due whenever the Space is observed, so no background
thread is needed and a slow test never sees a stage skipped. Log lines are written with the time they are
printed, possibly in the future, and a reader sees only those whose time has come.

    commit or factory restart:  BUILDING -> APP_STARTING -> RUNNING    (or BUILD_ERROR / RUNTIME_ERROR)
    commit while an app serves: RUNNING_BUILDING -> RUNNING_APP_STARTING -> RUNNING (old app serves meanwhile)
    restart, wake-up, hardware or volume change of a started Space:  APP_STARTING -> RUNNING
    RUNNING with a sleep time and no visit for that long:  STOPPED     pause:  PAUSED
"""

from __future__ import annotations

from dataclasses import dataclass

from hub_emulator import hardware, ids
from hub_emulator.state import LogLine, SpaceRuntimeState, Step

# Stages in which an app answers visits.
SERVING = frozenset({"RUNNING", "RUNNING_BUILDING", "RUNNING_APP_STARTING"})
# Billed per minute while starting or running; builds are free (FACTS.md section 4).
BILLED = frozenset({"APP_STARTING", "RUNNING", "RUNNING_BUILDING", "RUNNING_APP_STARTING"})
# Stages in which a container is (being) started: a hardware or volume change restarts it.
STARTED = frozenset({"APP_STARTING", "RUNNING", "RUNNING_APP_STARTING"})


@dataclass(frozen=True)
class Timing:
    build: float
    start: float
    sleep_scale: float


def effective_sleep_seconds(space: SpaceRuntimeState) -> int | None:
    """What the runtime reports as `gcTimeout`: None means the Space never sleeps."""
    if space.requested_hardware == hardware.FREE_FLAVOR:
        return hardware.FREE_SLEEP_SECONDS
    if space.sleep_setting is None or space.sleep_setting < 0:
        return None
    return space.sleep_setting


def advance(space: SpaceRuntimeState, now: float, timing: Timing) -> None:
    while space.timeline and space.timeline[0].due <= now:
        _enter(space, space.timeline.pop(0))
    _fall_asleep_if_idle(space, now, timing)


def _enter(space: SpaceRuntimeState, step: Step) -> None:
    space.stage = step.stage
    if step.stage in ("APP_STARTING", "RUNNING_APP_STARTING"):
        space.built_sha = step.sha
        if step.stage == "APP_STARTING":
            _stop_app(space)
        _new_container(space, step.due)
    elif step.stage == "RUNNING":
        space.running_sha = step.sha
        space.current_hardware = space.requested_hardware
        space.running_since = step.due
        space.error_message = None
    elif step.stage in ("BUILD_ERROR", "RUNTIME_ERROR"):
        _stop_app(space)
        space.error_message = step.error
        log = space.build_log if step.stage == "BUILD_ERROR" else space.run_log
        log.extend(LogLine(step.due, line) for line in step.lines)


def _new_container(space: SpaceRuntimeState, at: float) -> None:
    """A container starts: its run log begins afresh, as the Hub shows the current container's output."""
    space.starts += 1
    space.run_log = [LogLine(at, f"===== Application Startup at {ids.iso(ids.wall_of(at))} =====")]


def _fall_asleep_if_idle(space: SpaceRuntimeState, now: float, timing: Timing) -> None:
    seconds = effective_sleep_seconds(space)
    if space.stage != "RUNNING" or seconds is None or space.running_since is None:
        return
    last_activity = max(space.running_since, space.last_visit or space.running_since)
    if now >= last_activity + seconds * timing.sleep_scale:
        space.stage = "STOPPED"
        space.timeline = []
        _stop_app(space)


def _stop_app(space: SpaceRuntimeState) -> None:
    space.running_sha = None
    space.running_since = None
    space.current_hardware = None


def build(
    space: SpaceRuntimeState,
    sha: str,
    now: float,
    timing: Timing,
    *,
    dockerfile_steps: list[str],
    build_failure: list[str] | None,
    start_failure: list[str] | None,
    keep_serving: bool,
) -> None:
    """Build an image of commit `sha`, then start it (unless the build fails). With `keep_serving` (a commit, not
    a restart) an app that serves keeps serving until the new one runs."""
    serving = keep_serving and space.stage in SERVING
    space.stage = "RUNNING_BUILDING" if serving else "BUILDING"
    space.building_sha = sha
    space.builds += 1
    space.error_message = None
    if not serving:
        _stop_app(space)
    space.build_log = _build_log(now, timing.build, sha, dockerfile_steps)
    done = now + timing.build
    if build_failure is not None:
        lines = (*build_failure, "ERROR: failed to build the image (failure injected by the Hub stand-in)")
        space.timeline = [
            Step(done, "BUILD_ERROR", lines=lines, error="Build error: failed to build the image")
        ]
        return
    space.timeline = [
        Step(done, "RUNNING_APP_STARTING" if serving else "APP_STARTING", sha=sha),
        _start_outcome(done + timing.start, sha, start_failure),
    ]


def start(space: SpaceRuntimeState, now: float, timing: Timing, *, start_failure: list[str] | None) -> None:
    """Start (or restart) a container from the last built image."""
    sha = space.built_sha
    space.stage = "APP_STARTING"
    space.error_message = None
    _stop_app(space)
    _new_container(space, now)
    space.timeline = [_start_outcome(now + timing.start, sha, start_failure)]


def _start_outcome(due: float, sha: str | None, start_failure: list[str] | None) -> Step:
    if start_failure is None:
        return Step(due, "RUNNING", sha=sha)
    lines = (*start_failure, "Exit code: 1 (failure injected by the Hub stand-in)")
    return Step(due, "RUNTIME_ERROR", sha=sha, lines=lines, error="Exit code: 1. Reason: application crashed")


def settle(space: SpaceRuntimeState, stage: str, error: str | None = None) -> None:
    """Put the Space in a stage that runs nothing and has nothing scheduled (PAUSED, NO_APP_FILE, ...)."""
    space.stage = stage
    space.timeline = []
    space.error_message = error
    _stop_app(space)


def _build_log(now: float, duration: float, sha: str, steps: list[str]) -> list[LogLine]:
    lines = [f"===== Build Queued at {ids.iso(ids.wall_of(now))} / Commit SHA: {sha[:7]} ====="]
    total = len(steps)
    lines += [f"--> {i}/{total} {step}" for i, step in enumerate(steps, start=1)]
    lines.append("--> Pushing image")
    # Spread the lines over the build so a reader following a live build sees them arrive.
    gap = duration / max(1, len(lines))
    return [LogLine(now + i * gap, line) for i, line in enumerate(lines)]
