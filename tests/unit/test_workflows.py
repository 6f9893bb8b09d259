"""The CI workflows users get: lint clean, and each does the job its name promises."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

WORKFLOWS = Path(__file__).resolve().parents[2] / ".github" / "workflows"


def workflow(name: str) -> dict[str, Any]:
    loaded: dict[Any, Any] = yaml.safe_load((WORKFLOWS / f"{name}.yml").read_text())
    # YAML 1.1 reads the key `on` as the boolean True.
    loaded["on"] = loaded.pop(True)
    return loaded


def pulumi_step(job: dict[str, Any]) -> dict[str, Any]:
    steps = [s for s in job["steps"] if str(s.get("uses", "")).startswith("pulumi/actions@")]
    assert len(steps) == 1
    step: dict[str, Any] = steps[0]["with"]
    return step


def actionlint(*paths: Path) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("actionlint")
    assert binary, "actionlint is installed by `make setup`"
    return subprocess.run(
        [binary, "-color=false", *map(str, paths)], capture_output=True, text=True, check=False
    )


def test_actionlint_passes_on_every_workflow() -> None:
    result = actionlint(*sorted(WORKFLOWS.glob("*.yml")))
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_would_catch_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ nope.x }}\n"
    )
    assert actionlint(broken).returncode != 0


def test_pull_requests_get_the_plan_as_a_comment() -> None:
    wf = workflow("preview")
    assert "pull_request" in wf["on"]
    assert wf["permissions"]["pull-requests"] == "write"
    job = wf["jobs"]["preview"]
    assert job["strategy"]["matrix"]["stack"] == ["dev", "prod"]
    step = pulumi_step(job)
    assert (step["command"], step["comment-on-pr"]) == ("preview", True)


def test_dev_follows_main_and_prod_waits_for_a_protected_environment() -> None:
    wf = workflow("deploy")
    assert wf["on"]["push"]["branches"] == ["main"]
    assert wf["on"]["workflow_dispatch"]["inputs"]["stack"]["options"] == ["dev", "prod"]
    job = wf["jobs"]["deploy"]
    assert "'production'" in job["environment"]
    assert pulumi_step(job)["command"] == "up"


def test_the_drift_check_refreshes_on_a_schedule_and_expects_no_changes() -> None:
    wf = workflow("drift")
    assert wf["on"]["schedule"][0]["cron"]
    job = wf["jobs"]["drift"]
    step = pulumi_step(job)
    assert (step["command"], step["refresh"], step["expect-no-changes"]) == ("preview", True, True)
    assert any(s.get("if") == "failure()" and "gh issue create" in s["run"] for s in job["steps"])


def test_destroy_runs_only_after_the_stack_name_is_typed_again() -> None:
    wf = workflow("destroy")
    assert set(wf["on"]) == {"workflow_dispatch"}
    job = wf["jobs"]["destroy"]
    check = job["steps"][0]
    assert check["name"] == "Check the confirmation"

    def confirm(stack: str, typed: str) -> int:
        env = {"PATH": "/usr/bin:/bin", "STACK": stack, "CONFIRM": typed}
        return subprocess.run(
            ["bash", "-c", check["run"]], env=env, capture_output=True, check=False
        ).returncode

    assert confirm("prod", "prod") == 0
    assert confirm("prod", "dev") != 0
    assert confirm("prod", "") != 0
    assert pulumi_step(job)["command"] == "destroy"


@pytest.mark.parametrize("name", ["preview", "deploy", "drift", "destroy"])
def test_secrets_come_from_the_repository_secrets(name: str) -> None:
    job = next(iter(workflow(name)["jobs"].values()))
    for key in ("FLY_API_TOKEN", "PULUMI_CONFIG_PASSPHRASE"):
        assert job["env"][key] == f"${{{{ secrets.{key} }}}}"
    assert any(s.get("uses") == "./.github/actions/setup" for s in job["steps"])
