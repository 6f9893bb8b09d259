"""The machine state machine, advanced by time.

Each operation puts the machine into its first state at once (the API answers with that state, as Fly
does: a create answers `created`, a stop leaves it `stopping`) and schedules the remaining transitions
on the monotonic clock. `advance` applies whatever is due whenever the machine is observed, so no
background thread is needed and a slow test never sees a transition skipped.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from emulator import ids
from emulator.state import Machine, MachineEvent, Step

TRANSITIONAL = frozenset({"starting", "stopping", "replacing", "destroying", "suspending"})
SETTLED = frozenset({"created", "started", "stopped", "suspended", "failed", "destroyed"})
# States whose machine is (or is about to be) running: an update restarts it, a delete needs force.
RUNNING = frozenset({"starting", "started", "replacing"})
STARTABLE = frozenset({"created", "stopped", "suspended", "failed"})
# States in which nothing runs: what "stopped" means for deleting a machine or an app without force.
AT_REST = STARTABLE | {"destroyed"}
ALL_STATES = TRANSITIONAL | SETTLED


@dataclass(frozen=True)
class Timing:
    boot: float
    transition: float


def _wall(mono: float) -> float:
    """The wall-clock time of a monotonic instant, so events carry when they happened, not when seen."""
    return time.time() - (time.monotonic() - mono)


def record(machine: Machine, event_type: str, status: str, at: float, source: str = "user") -> None:
    machine.events.append(MachineEvent(ids.ulid(), event_type, status, source, int(at * 1000)))


def _set(machine: Machine, state: str, event_type: str, source: str = "user") -> None:
    machine.state = state
    machine.timeline = []
    record(machine, event_type, state, time.time(), source)
    if state == "destroyed":
        machine.destroyed_at = time.monotonic()


def advance(machine: Machine, now: float | None = None) -> None:
    now = time.monotonic() if now is None else now
    while machine.timeline and machine.timeline[0].due <= now:
        step = machine.timeline.pop(0)
        machine.state = step.state
        record(machine, step.event_type, step.state, _wall(step.due), step.source)
        if step.state == "destroyed":
            machine.destroyed_at = step.due


def next_due(machine: Machine) -> float | None:
    return machine.timeline[0].due if machine.timeline else None


def _boot_steps(start: float, timing: Timing, fails: bool) -> list[Step]:
    end = start + timing.boot
    if fails:
        return [Step(end, "failed", "exit")]
    return [Step(end, "started", "start")]


def launch(machine: Machine, timing: Timing, fails: bool) -> None:
    """A new machine: `created` now, then `starting`, then `started` (or `failed`)."""
    now = time.monotonic()
    _set(machine, "created", "launch")
    machine.timeline = [
        Step(now + timing.transition, "starting", "start"),
        *_boot_steps(now + timing.transition, timing, fails),
    ]


def create_stopped(machine: Machine) -> None:
    """`skip_launch`: the machine exists but is never booted."""
    _set(machine, "created", "launch")


def start(machine: Machine, timing: Timing, fails: bool) -> None:
    now = time.monotonic()
    _set(machine, "starting", "start")
    machine.timeline = _boot_steps(now, timing, fails)


def stop(machine: Machine, timing: Timing) -> None:
    now = time.monotonic()
    _set(machine, "stopping", "stop")
    machine.timeline = [Step(now + timing.transition, "stopped", "stop", "flyd")]


def suspend(machine: Machine, timing: Timing) -> None:
    now = time.monotonic()
    _set(machine, "suspending", "suspend")
    machine.timeline = [Step(now + timing.transition, "suspended", "suspend", "flyd")]


def restart(machine: Machine, timing: Timing, fails: bool) -> None:
    now = time.monotonic()
    _set(machine, "stopping", "restart")
    up = now + timing.transition
    machine.timeline = [Step(up, "starting", "start", "flyd"), *_boot_steps(up, timing, fails)]


def replace(machine: Machine, timing: Timing, fails: bool, *, launch_after: bool) -> None:
    """An update: `replacing`, then booted again or left stopped (`skip_launch`)."""
    now = time.monotonic()
    _set(machine, "replacing", "update")
    up = now + timing.transition
    if launch_after:
        machine.timeline = [Step(up, "starting", "start", "flyd"), *_boot_steps(up, timing, fails)]
    else:
        machine.timeline = [Step(up, "stopped", "update", "flyd")]


def destroy(machine: Machine, timing: Timing) -> None:
    now = time.monotonic()
    _set(machine, "destroying", "destroy")
    machine.timeline = [Step(now + timing.transition, "destroyed", "destroy", "flyd")]


def destroy_now(machine: Machine) -> None:
    """App deletion takes its machines down with it, at once."""
    _set(machine, "destroyed", "destroy", "flyd")
