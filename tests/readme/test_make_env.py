"""`source <(make -s env)`, as the README tells a user to run it: the toolchain on PATH and nothing else.

In particular no offline switch: a real deploy may need the engine to download a provider plugin.
"""

from __future__ import annotations

import os
import subprocess

from lifecycle.workspace import ROOT


def in_a_users_shell(script: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "MAKE", "MFLAGS"))}
    env["UV_OFFLINE"] = "1"  # setup is already done; nothing needs fetching
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )


def test_make_env_prints_only_a_path_export() -> None:
    (line,) = in_a_users_shell("make -s env").stdout.splitlines()
    assert line.startswith('export PATH="')
    assert line.endswith(':$PATH"')


def test_sourcing_it_finds_the_toolchain_and_sets_no_pulumi_switch() -> None:
    shell = in_a_users_shell(
        "source <(make -s env); command -v pulumi; command -v actionlint; env | grep '^PULUMI_' || true"
    )
    pulumi, actionlint, *switches = shell.stdout.splitlines()
    assert pulumi.endswith("/pulumi")
    assert actionlint == str(ROOT / ".venv" / "bin" / "actionlint")
    assert switches == []
