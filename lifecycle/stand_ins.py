"""The local stand-ins a sandbox stack runs against, one per platform: nothing here reaches a real service.

Each is a context manager that starts its stand-in and yields what the sandbox needs to know: which stack file
to run, the engine's environment, what to tell the user, and how to list anything billable left behind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from emulator import FlyEmulator

# The emulator accepts any token; this one only has to be non-empty.
EMULATOR_TOKEN = "sandbox-emulator-token"  # noqa: S105


@dataclass
class StandIn:
    stack: str
    env: dict[str, str]
    banner: list[str]
    billable: Callable[[], list[str]]
    # What "nothing billable" means here, said when the check passes.
    nothing_left: str
    # Stack config set before `up` (e.g. a kubeconfig path that exists only for this run).
    config: dict[str, str] = field(default_factory=dict)


@contextmanager
def fly(_scratch: Path) -> Iterator[StandIn]:
    with FlyEmulator(gpus_offered=True) as emu:
        yield StandIn(
            stack="sandbox",
            env={"FLY_API_URL": emu.base_url, "FLY_API_TOKEN": EMULATOR_TOKEN},
            banner=[
                f"started an EMULATION of the Fly Machines API at {emu.base_url} (GPUs offered, as Fly did "
                "before 2026-08-01). Nothing here talks to Fly.io; nothing is billed."
            ],
            billable=emu.billable,
            nothing_left="no app, machine, volume or IP address",
        )


@contextmanager
def kubernetes(_scratch: Path) -> Iterator[StandIn]:
    from lifecycle.kube_stand_in import kubernetes_stand_in

    with kubernetes_stand_in() as stand_in:
        yield stand_in


@contextmanager
def spaces(_scratch: Path) -> Iterator[StandIn]:
    from lifecycle.hub_stand_in import spaces_stand_in

    with spaces_stand_in() as stand_in:
        yield stand_in


STAND_INS: dict[str, Callable[[Path], AbstractContextManager[StandIn]]] = {
    "fly": fly,
    "kubernetes": kubernetes,
    "spaces": spaces,
}
