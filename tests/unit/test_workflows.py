"""The CI workflows users get: lint clean, and each does the job its name promises."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
SETUP_ACTION = ROOT / ".github" / "actions" / "setup" / "action.yml"
NAMES = ["preview", "deploy", "drift", "destroy"]
# The latest major version of every action the workflows use (checked against each action's releases,
# 2026-11). A new major or a new action fails test_every_action_is_pinned_at_its_current_major.
CURRENT_MAJORS = {
    "actions/checkout": "v7",
    "actions/setup-python": "v7",
    "actions/github-script": "v9",
    "docker/setup-buildx-action": "v4",
    "pulumi/actions": "v7",
}


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
    report = drift_report_step()
    assert report["if"] == "failure()"


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


@pytest.mark.parametrize("name", NAMES)
def test_secrets_come_from_the_repository_secrets(name: str) -> None:
    job = next(iter(workflow(name)["jobs"].values()))
    for key in ("FLY_API_TOKEN", "PULUMI_CONFIG_PASSPHRASE"):
        assert job["env"][key] == f"${{{{ secrets.{key} }}}}"
    assert any(s.get("uses") == "./.github/actions/setup" for s in job["steps"])


def job_of(name: str) -> dict[str, Any]:
    job: dict[str, Any] = next(iter(workflow(name)["jobs"].values()))
    return job


def setup_steps() -> list[dict[str, Any]]:
    setup: dict[str, Any] = yaml.safe_load(SETUP_ACTION.read_text())
    steps: list[dict[str, Any]] = setup["runs"]["steps"]
    return steps


def all_steps() -> list[dict[str, Any]]:
    return [step for name in NAMES for step in job_of(name)["steps"]] + setup_steps()


def test_every_action_is_pinned_at_its_current_major() -> None:
    used = {step["uses"] for step in all_steps() if "uses" in step and not step["uses"].startswith("./")}
    assert used
    for reference in used:
        action, _, version = reference.partition("@")
        assert action in CURRENT_MAJORS, f"{action}: add its current major to CURRENT_MAJORS"
        assert version == CURRENT_MAJORS[action], (
            f"{reference}: the current major is {CURRENT_MAJORS[action]}"
        )


@pytest.mark.parametrize(("name", "upsert"), [("preview", True), ("deploy", True), ("destroy", False)])
def test_preview_and_deploy_create_the_stack_on_a_fresh_repository_and_destroy_never_does(
    name: str, upsert: bool
) -> None:
    assert pulumi_step(job_of(name)).get("upsert", False) is upsert


def test_deploy_refreshes_before_it_updates() -> None:
    step = pulumi_step(job_of("deploy"))
    assert (step["command"], step["refresh"]) == ("up", True)


@pytest.mark.parametrize("name", NAMES)
def test_every_workflow_uses_the_shared_backend_with_the_credentials_an_s3_backend_needs(name: str) -> None:
    env = job_of(name)["env"]
    assert env["PULUMI_BACKEND_URL"] == "${{ vars.PULUMI_BACKEND_URL }}"
    assert env["AWS_ACCESS_KEY_ID"] == "${{ secrets.AWS_ACCESS_KEY_ID }}"
    assert env["AWS_SECRET_ACCESS_KEY"] == "${{ secrets.AWS_SECRET_ACCESS_KEY }}"
    assert env["AWS_REGION"] == "${{ vars.AWS_REGION }}"


def test_the_readme_names_every_secret_and_variable_the_workflows_read() -> None:
    text = "".join((WORKFLOWS / f"{name}.yml").read_text() for name in NAMES)
    names = set(re.findall(r"\b(?:secrets|vars)\.([A-Z_]+)", text)) - {"GITHUB_TOKEN"}
    assert names >= {"PULUMI_BACKEND_URL", "AWS_REGION", "FLY_API_TOKEN"}
    readme = (ROOT / "README.md").read_text()
    for name in sorted(names):
        assert f"`{name}`" in readme, f"the README does not name {name}"


def backend_check() -> str:
    (step,) = [s for s in setup_steps() if s.get("name") == "Check that the state backend is shared"]
    run: str = step["run"]
    return run


@pytest.mark.parametrize(
    ("backend", "accepted"),
    [("", False), ("file://./state", False), ("https://api.pulumi.com", True), ("s3://bucket/songgen", True)],
)
def test_setup_refuses_to_keep_state_on_the_runner(backend: str, accepted: bool) -> None:
    env = {"PATH": "/usr/bin:/bin", "PULUMI_BACKEND_URL": backend}
    result = subprocess.run(
        ["bash", "-c", backend_check()], env=env, capture_output=True, text=True, check=False
    )
    assert (result.returncode == 0) is accepted
    if not accepted:
        assert "PULUMI_BACKEND_URL" in result.stdout


def drift_step(name: str) -> dict[str, Any]:
    steps: list[dict[str, Any]] = [s for s in job_of("drift")["steps"] if s.get("name") == name]
    (step,) = steps
    return step


def drift_report_step() -> dict[str, Any]:
    step = drift_step("Report the drift on the stack's open issue")
    assert step["uses"].startswith("actions/github-script@")
    return step


def stack_exists_check(tmp_path: Path, stacks: str | None) -> tuple[int, str]:
    """Runs the drift job's "never deployed" check with a stand-in `pulumi` that lists `stacks`
    (or fails, for None); returns the exit status and what the step wrote to $GITHUB_OUTPUT."""
    fake = tmp_path / "bin" / "pulumi"
    fake.parent.mkdir(parents=True)
    fake.write_text(
        "#!/bin/sh\n"
        + (
            f"echo '{stacks}'\n"
            if stacks is not None
            else "echo 'error: no access to the backend' >&2\nexit 1\n"
        )
    )
    fake.chmod(0o755)
    output = tmp_path / "github-output"
    output.touch()
    env = {"PATH": f"{fake.parent}:/usr/bin:/bin", "STACK": "dev", "GITHUB_OUTPUT": str(output)}
    script = drift_step("Skip a stack that was never deployed")["run"]
    result = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode, output.read_text()


def test_the_drift_check_runs_only_on_stacks_that_exist(tmp_path: Path) -> None:
    assert drift_step("Skip a stack that was never deployed")["id"] == "stack"
    (preview,) = [s for s in job_of("drift")["steps"] if str(s.get("uses", "")).startswith("pulumi/actions@")]
    assert preview["if"] == "steps.stack.outputs.exists == 'true'"
    listed = '[{"name": "prod"}, {"name": "acme/dev"}]'
    assert stack_exists_check(tmp_path / "listed", listed) == (0, "exists=true\n")


def test_the_drift_check_skips_a_stack_that_was_never_deployed(tmp_path: Path) -> None:
    assert stack_exists_check(tmp_path, '[{"name": "prod"}]') == (0, "exists=false\n")


def test_the_drift_check_fails_when_the_backend_cannot_be_listed(tmp_path: Path) -> None:
    status, written = stack_exists_check(tmp_path, None)
    assert status != 0
    assert written == ""


# github-script runs the step's script as the body of an async function; this harness does the same
# with a stand-in for the GitHub client that keeps the repository's issues in memory.
GITHUB_SCRIPT_HARNESS = """
const issues = JSON.parse(process.env.ISSUES);
const calls = [];
const github = {
  rest: { issues: {
    listForRepo: async (p) => ({ data: issues.filter((i) => i.state === p.state && i.labels.includes(p.labels)) }),
    createComment: async (p) => { calls.push({ comment: p.issue_number, body: p.body }); return { data: {} }; },
    create: async (p) => { calls.push({ create: p.title, labels: p.labels, body: p.body }); return { data: { number: 7 } }; },
  } },
  paginate: async (method, params) => (await method(params)).data,
};
const context = { repo: { owner: "acme", repo: "studio" } };
const core = { info: () => {} };
const run = new (Object.getPrototypeOf(async () => {}).constructor)("github", "context", "core", process.env.SCRIPT);
run(github, context, core).then(() => console.log(JSON.stringify(calls)));
"""


def report_drift(issues: list[dict[str, Any]]) -> list[dict[str, Any]]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is needed to run the github-script step")
    env = {
        "PATH": "/usr/bin:/bin",
        "SCRIPT": drift_report_step()["with"]["script"],
        "ISSUES": json.dumps(issues),
        "STACK": "dev",
        "RUN_URL": "https://github.com/acme/studio/actions/runs/1",
    }
    result = subprocess.run(
        [node, "-e", GITHUB_SCRIPT_HARNESS], env=env, capture_output=True, text=True, check=True, timeout=30
    )
    calls: list[dict[str, Any]] = json.loads(result.stdout)
    return calls


def test_drift_opens_one_issue_when_none_is_open() -> None:
    closed = {"number": 3, "title": "Drift detected in stack dev", "state": "closed", "labels": ["drift"]}
    other = {"number": 4, "title": "Drift detected in stack prod", "state": "open", "labels": ["drift"]}
    (call,) = report_drift([closed, other])
    assert call["create"] == "Drift detected in stack dev"
    assert call["labels"] == ["drift"]
    assert "actions/runs/1" in call["body"]


def test_drift_comments_on_the_open_issue_instead_of_opening_another() -> None:
    open_issue = {"number": 5, "title": "Drift detected in stack dev", "state": "open", "labels": ["drift"]}
    (call,) = report_drift([open_issue])
    assert call["comment"] == 5
    assert "actions/runs/1" in call["body"]
