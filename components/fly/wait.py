"""Waiting for a machine to reach a state: poll Fly's bounded server-side wait until our own deadline."""

from __future__ import annotations

import time
from collections.abc import Collection
from typing import Any, cast

from components.dynamic import progress

from .api import FlyClient, segment
from .errors import Category

MAX_WAIT_CALL_S = 60  # Fly caps one /wait call at 60 s
# Each round waits at most this long, so a machine that fails (not a state /wait can wait for) is noticed soon
# and the person watching sees progress.
ROUND_S = 10
FAILED_STATES = frozenset({"failed"})
GONE_STATES = frozenset({"destroying", "destroyed"})
RESTING_STATES = ("stopped", "suspended")


def machine_path(app: str, machine_id: str) -> str:
    return f"/apps/{segment(app)}/machines/{segment(machine_id)}"


def wait_for_state(
    fly: FlyClient,
    app: str,
    machine_id: str,
    target: str,
    *,
    timeout_s: float,
    also_accept: Collection[str] = (),
    instance_id: str | None = None,
) -> dict[str, Any] | None:
    """Block until the machine is in `target` (or one of `also_accept`); returns it, or None once it is gone.

    Each round asks Fly to wait (408 means "not yet"), then looks at the machine, so a machine that fails or is
    destroyed meanwhile ends the wait within a round with a message rather than at the deadline.
    """
    path = machine_path(app, machine_id)
    started = time.monotonic()
    deadline = started + timeout_s
    accepted = {target, *also_accept}
    state = ""
    while True:
        elapsed = time.monotonic() - started
        now = f", now {state}" if state else ""
        progress.status(
            f"{fly.subject}: waiting for state {target} ({elapsed:.0f} s of {timeout_s:.0f} s{now})"
        )
        remaining = deadline - time.monotonic()
        per_call = max(1, min(ROUND_S, MAX_WAIT_CALL_S, int(remaining)))
        params: dict[str, Any] = {
            "state": [target, *sorted(set(also_accept) - {target})],
            "timeout": per_call,
        }
        if instance_id:
            params["instance_id"] = instance_id
        response = fly.call(
            "GET", f"{path}/wait", params=params, accept=(404, 408), read_timeout_s=per_call + 15
        )
        machine = fly.get_json(path)
        if not isinstance(machine, dict):
            if target == "destroyed":
                return None
            raise fly.error(
                f"machine {machine_id} in app {app} disappeared while waiting for it to be {target}",
                Category.NOT_FOUND,
            )
        state = str(machine.get("state", ""))
        if response.status_code < 300 or state in accepted:
            return cast("dict[str, Any]", machine)
        if state in FAILED_STATES or (state in GONE_STATES and target != "destroyed"):
            raise fly.error(
                f"machine {machine_id} in app {app} is {state} while waiting for it to be {target}",
                Category.TIMEOUT,
            )
        if time.monotonic() >= deadline:
            raise fly.error(
                f"machine {machine_id} in app {app} did not reach state {target} within {timeout_s:.0f} s "
                f"(it is {state or 'unknown'})",
                Category.TIMEOUT,
            )
