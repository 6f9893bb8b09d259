"""What the real-engine Fly tests share: the sandbox stack's names, and views of the emulator's state."""

from __future__ import annotations

from typing import Any

from pulumi import automation as auto

from emulator import FlyEmulator

APP = "songgen-studio-sandbox"
PREBUILT = "registry.fly.io/songgen-studio-sandbox:prebuilt"
# The owner id of the test stacks on the local backend: organization/project/stack.
OWNER = "organization/songgen-studio/sandbox"


def configure(stack: auto.Stack, **values: str) -> None:
    for key, value in values.items():
        stack.set_config(f"songgen-studio:{key}", auto.ConfigValue(value))


def machines(emu: FlyEmulator) -> list[dict[str, Any]]:
    return [m for m in emu.state()["machines"].values() if m["state"] != "destroyed"]


def volumes(emu: FlyEmulator) -> list[dict[str, Any]]:
    return list(emu.state()["volumes"].values())


def writes(emu: FlyEmulator) -> list[str]:
    return [f"{r.method} {r.path}" for r in emu.requests() if r.method != "GET"]


def destroy_leaves_nothing_billable(stack: auto.Stack, emu: FlyEmulator) -> None:
    stack.destroy(color="never")
    assert emu.billable() == []
