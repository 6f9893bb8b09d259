"""The Python language host the engine runs programs with, whichever one setup installed."""

from __future__ import annotations

from pathlib import Path

import pytest
from pulumi import automation as auto

from lifecycle.workspace import SCRATCH_PASSPHRASE, engine_env, open_stack, python_program

pytestmark = pytest.mark.engine


def program(tmp_path: Path, source: str) -> auto.Stack:
    project = python_program(tmp_path / "program", "probe", source)
    return open_stack(project, "probe", engine_env(tmp_path / "state", SCRATCH_PASSPHRASE))


def test_a_stack_without_any_config_runs(tmp_path: Path) -> None:
    stack = program(
        tmp_path, "import pulumi\n\npulumi.export('config', pulumi.Config().get('missing') or 'none')\n"
    )
    assert stack.up(color="never").outputs["config"].value == "none"


def test_config_values_and_their_secrecy_reach_the_program(tmp_path: Path) -> None:
    stack = program(
        tmp_path,
        "import pulumi\n\ncfg = pulumi.Config()\n"
        "pulumi.export('plain', cfg.require('plain'))\npulumi.export('hidden', cfg.require_secret('hidden'))\n",
    )
    stack.set_config("probe:plain", auto.ConfigValue("visible"))
    stack.set_config("probe:hidden", auto.ConfigValue("s3cret-value", secret=True))
    outputs = stack.up(color="never").outputs
    assert outputs["plain"].value == "visible"
    assert outputs["hidden"].secret
    assert outputs["hidden"].value == "s3cret-value"


def test_a_run_error_fails_the_update_with_the_programs_message_and_no_traceback(tmp_path: Path) -> None:
    stack = program(tmp_path, "import pulumi\n\nraise pulumi.RunError('the settings are wrong: fix key x')\n")
    with pytest.raises(auto.CommandError) as caught:
        stack.preview(color="never")
    assert "the settings are wrong: fix key x" in str(caught.value)
    assert "Traceback" not in str(caught.value)


def test_an_unhandled_exception_shows_the_users_traceback(tmp_path: Path) -> None:
    stack = program(tmp_path, "def broken():\n    return 1 / 0\n\nbroken()\n")
    with pytest.raises(auto.CommandError) as caught:
        stack.preview(color="never")
    assert "ZeroDivisionError" in str(caught.value)
    assert "broken()" in str(caught.value)
