"""`GET .../machines/{id}/wait`: long-poll until the machine is in one of the wanted states.

States repeat or are comma-separated (started, stopped, suspended, destroyed, failed, settled); the
timeout is 1-60 s, default 60, anything else 400 invalid_argument; not reached in time is 408
(OpenAPI spec "Wait for State", fly-go flaps_machines_wait.go). `version` (or the deprecated
`instance_id`) pins the machine version; `from_event_id` waits for a state reached after that event.
"""

from __future__ import annotations

import asyncio
import time

from fastapi import APIRouter, Request

from emulator import lifecycle
from emulator.core import get_core
from emulator.errors import FlyError, bad_request, precondition
from emulator.machine_views import ONE, get_machine
from emulator.query import query_int
from emulator.state import Machine
from standin.jsonbody import JSON

router = APIRouter()

WAIT_STATES = frozenset({"started", "stopped", "suspended", "destroyed", "failed", "settled"})
WAIT_POLL_SECONDS = 0.02


def _wait_targets(request: Request) -> set[str]:
    raw = request.query_params.getlist("state") or ["started"]
    targets = {s.strip() for item in raw for s in item.split(",") if s.strip()}
    unknown = targets - WAIT_STATES
    if unknown or not targets:
        raise bad_request(
            f"invalid_argument: state {', '.join(sorted(unknown)) or '(empty)'} is not one of "
            f"{', '.join(sorted(WAIT_STATES))}"
        )
    if "settled" in targets:
        targets = (targets - {"settled"}) | set(lifecycle.SETTLED)
    return targets


@router.get(ONE + "/wait")
async def wait_machine(app_name: str, machine_id: str, request: Request) -> JSON:
    """Long-poll until the machine is in one of the states (repeated or comma-separated), for 1-60 s
    (default 60); 408 when the time runs out (OpenAPI spec "Wait for State", flaps_machines_wait.go)."""
    core = get_core(request)
    params = request.query_params
    targets = _wait_targets(request)
    timeout = query_int(params.get("timeout"), "timeout")
    timeout = 60 if timeout is None else timeout
    if not 1 <= timeout <= 60:
        raise bad_request(f"invalid_argument: timeout {timeout}s is out of range [1s, 1m0s]")
    version = params.get("version") or params.get("instance_id")
    from_event = params.get("from_event_id")
    deadline = time.monotonic() + timeout
    with core.lock:
        machine = get_machine(core, app_name, machine_id)
        if version and version != machine.instance_id:
            if version in {v for v, _ in machine.versions}:
                raise precondition(
                    f"machine {machine.id} is now at version {machine.instance_id}, not {version}"
                )
            raise bad_request(f"invalid_argument: unknown version {version!r}")
        if from_event and from_event not in {e.id for e in machine.events}:
            raise bad_request(f"invalid_argument: unknown event {from_event!r}")
    while True:
        with core.lock:
            machine = get_machine(core, app_name, machine_id)
            if _reached(machine, targets, from_event):
                return {
                    "ok": True,
                    "state": machine.state,
                    "version": machine.instance_id,
                    "event_id": machine.events[-1].id if machine.events else "",
                }
            due = lifecycle.next_due(machine)
        now = time.monotonic()
        if now >= deadline:
            raise FlyError(
                408,
                f"deadline_exceeded: machine {machine_id} did not reach state {'/'.join(sorted(targets))} "
                f"within {timeout}s (it is {machine.state})",
            )
        pause = WAIT_POLL_SECONDS if due is None else max(0.001, min(WAIT_POLL_SECONDS, due - now))
        await asyncio.sleep(min(pause, deadline - now))


def _reached(machine: Machine, targets: set[str], from_event: str | None) -> bool:
    if machine.state not in targets:
        return False
    if from_event is None:
        return True
    seen = False
    for event in machine.events:
        if seen and event.status in targets:
            return True
        seen = seen or event.id == from_event
    return False
