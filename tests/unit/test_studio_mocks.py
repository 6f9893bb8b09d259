"""The program under Pulumi's mocks, once per stack file: what is declared, with which properties."""

from __future__ import annotations

import asyncio
import json
import runpy
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor

from components import plugins
from components.fly.pricing import estimate
from components.image import EXPECTED_IMAGE_GB
from tests.fly_settings import fly_settings
from tests.unit.test_settings import stack_file

ROOT = Path(__file__).resolve().parents[2]
DIGEST = "sha256:" + "c" * 64
STUDIO = "songgen:studio:SongGenStudio"
FLY = "pulumi-python:dynamic/fly:"


class StudioMocks(pulumi.runtime.Mocks):
    """Answers like the providers would: ids and the outputs each resource kind adds."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        outs = dict(args.inputs)
        if args.typ == "docker:index/image:Image":
            outs["repo_digest"] = f"{outs['imageName'].rsplit(':', 1)[0]}@{DIGEST}"
        elif args.typ == "command:local:Command":
            outs["stdout"] = f"--> Pushing image done\ndigest: {DIGEST}\n"
        elif "size_gb" in outs:
            outs["volume_id"] = f"vol_{args.name}"
        elif "config" in outs:
            outs["machine_id"] = f"m_{args.name}"
        elif "values" in outs:
            outs["version"] = 2
            outs["keys"] = sorted(rpc.unwrap_rpc_secret(outs["values"]))
        return f"{args.name}-id", outs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


@dataclass
class Program:
    resources: dict[str, MockMonitor.ResourceRegistration]
    outputs: dict[str, Any]

    def named(self, name: str) -> MockMonitor.ResourceRegistration:
        (found,) = [r for urn, r in self.resources.items() if urn.endswith(f"::{name}")]
        return found

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        """States of the Fly resources of one kind (App, IpAssignment, Volume, Machine, AppSecrets)."""
        return [r.state for urn, r in self.resources.items() if f"${FLY}{kind}::" in urn]


@pytest.fixture(autouse=True)
def _event_loop() -> Iterator[None]:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield
    loop.close()


def run_program(
    stack: str,
    raw: dict[str, Any],
    secret: set[str],
    monkeypatch: pytest.MonkeyPatch,
    *,
    token: str | None = "mock-token",
    preview: bool = False,
) -> Program:
    if token is None:
        monkeypatch.delenv("FLY_API_TOKEN", raising=False)
    else:
        monkeypatch.setenv("FLY_API_TOKEN", token)
    monkeypatch.delenv("FLY_API_URL", raising=False)
    # The mocks stand in for the engine and every plugin.
    monkeypatch.setattr(plugins, "installed", lambda _name, _version: True)
    mocks = StudioMocks()
    monitor = MockMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project="songgen-studio", stack=stack, preview=preview, monitor=monitor)
    pulumi.runtime.set_all_config(
        {f"songgen-studio:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()},
        [f"songgen-studio:{k}" for k in secret],
    )
    outputs: dict[str, Any] = {}

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def body() -> pulumi.Output[Any]:
        program = runpy.run_path(str(ROOT / "__main__.py"))
        deployment = program["deployment"]
        resolved = {
            "url": deployment.url,
            "image": deployment.image,
            "runs": deployment.runs,
            "stores": deployment.stores,
            **deployment.extras,
        }
        outputs["cost"] = deployment.cost
        outputs["look"] = deployment.look
        return pulumi.Output.from_input(resolved).apply(outputs.update)

    body()
    return Program(monitor.get_registered_resources(), outputs)


@pytest.mark.parametrize("stack", ["dev", "prod", "sandbox"])
def test_each_stack_declares_app_ips_volume_and_machine_under_the_component(
    stack: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw, secret = stack_file(ROOT, stack)
    program = run_program(stack, raw, secret, monkeypatch)

    (app,) = program.of_kind("App")
    assert app["name"] == f"songgen-studio-{stack}"
    assert sorted(ip["type"] for ip in program.of_kind("IpAssignment")) == ["shared_v4", "v6"]
    (volume,) = program.of_kind("Volume")
    (machine,) = program.of_kind("Machine")
    settings = fly_settings(stack, raw, secret)
    assert volume["size_gb"] == settings.volume_size_gb
    assert volume["compute"]["gpu_kind"] == settings.gpu_kind.value
    assert machine["region"] == volume["region"] == "ord"
    assert machine["config"]["mounts"] == [{"volume": volume["volume_id"], "path": "/data"}]
    assert machine["config"]["guest"]["gpu_kind"] == settings.gpu_kind.value
    assert machine["config"]["env"]["SONGGEN_MODELS"] == ",".join(m.value for m in settings.models)
    # Every Fly resource hangs under the one component.
    for urn in program.resources:
        if FLY in urn:
            assert f"::{STUDIO}$" in urn, urn


def test_dev_builds_locally_and_machines_get_the_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    program = run_program("dev", {}, set(), monkeypatch)
    image = program.named("studio-local-build")
    assert image.state["imageName"].startswith("registry.fly.io/songgen-studio-dev:e55c80c-10af9db-")
    assert image.state["build"]["platform"] == "linux/amd64"
    assert image.state["skipPush"] is False
    assert image.state["buildOnPreview"] is False
    (machine,) = program.of_kind("Machine")
    assert machine["config"]["image"] == f"registry.fly.io/songgen-studio-dev@{DIGEST}"
    assert program.outputs["image"] == machine["config"]["image"]


def test_the_registry_password_is_a_secret_and_the_token_is_no_machine_input(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    program = run_program("dev", {}, set(), monkeypatch)
    for urn, registration in program.resources.items():
        if FLY in urn:
            assert "mock-token" not in repr(registration.state), urn


def test_fly_remote_builds_with_flyctl_and_pins_the_pushed_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    program = run_program("dev", {"imageBuilder": "fly-remote"}, set(), monkeypatch)
    build = program.named("studio-remote-build")
    assert build.state["create"].startswith("flyctl deploy ")
    assert build.state["triggers"] == [build.state["create"].split("--image-label ")[1].split()[0]]
    (machine,) = program.of_kind("Machine")
    assert machine["config"]["image"] == f"registry.fly.io/songgen-studio-dev@{DIGEST}"


def test_a_prebuilt_image_builds_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    raw, secret = stack_file(ROOT, "sandbox")
    program = run_program("sandbox", raw, secret, monkeypatch)
    assert not [urn for urn in program.resources if "docker:" in urn or "command:" in urn]
    (machine,) = program.of_kind("Machine")
    assert machine["config"]["image"] == raw["image"]


def test_two_machines_in_a_region_fork_the_second_volume_from_the_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    program = run_program("dev", {"machines": {"ord": 2}}, set(), monkeypatch)
    volumes = sorted(program.of_kind("Volume"), key=lambda v: v["name"])
    assert [v["name"] for v in volumes] == ["cache_ord_1", "cache_ord_2"]
    assert volumes[0].get("source_volume_id") is None
    assert volumes[1]["source_volume_id"] == volumes[0]["volume_id"]
    machines = program.of_kind("Machine")
    assert sorted(m["config"]["mounts"][0]["volume"] for m in machines) == sorted(
        v["volume_id"] for v in volumes
    )


def test_an_hf_token_becomes_an_app_secret_that_machines_follow(monkeypatch: pytest.MonkeyPatch) -> None:
    program = run_program("dev", {"hfToken": "hf_mocked_value"}, {"hfToken"}, monkeypatch)
    (secrets,) = program.of_kind("AppSecrets")
    assert secrets["keys"] == ["HF_TOKEN"]
    assert rpc.is_rpc_secret(secrets["values"])  # the values travel as a Pulumi secret
    (machine,) = program.of_kind("Machine")
    assert machine["secrets_version"] == 2
    assert "hf_mocked_value" not in repr(machine)


def test_outputs_and_cost_match_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    program = run_program("dev", {}, set(), monkeypatch)
    assert program.outputs["url"] == "https://songgen-studio-dev.fly.dev"
    assert program.outputs["app"] == "songgen-studio-dev"
    assert program.outputs["machines"] == [{"id": "m_studio-ord-1", "region": "ord"}]
    assert program.outputs["volumes"] == ["vol_cache-ord-1"]
    settings = fly_settings("dev")
    assert program.outputs["cost"] == estimate(settings, image_size_gb=EXPECTED_IMAGE_GB)
    assert program.outputs["runs"] == [
        {"id": "m_studio-ord-1", "kind": "fly machine", "where": "ord", "name": "studio-ord-1"}
    ]
    assert program.outputs["stores"][0]["id"] == "vol_cache-ord-1"
    assert program.outputs["look"]["logs"] == "fly logs -a songgen-studio-dev"
    assert program.outputs["cost"].per_running_hour == pytest.approx(1.4284)


def test_a_preview_without_a_fly_token_goes_on_and_says_what_up_will_need(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    program = run_program("dev", {}, set(), monkeypatch, token=None, preview=True)
    assert program.named("studio-local-build")
    assert any("no Fly token" in record.getMessage() for record in caplog.records)


def test_an_up_without_a_fly_token_stops_before_building(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(pulumi.RunError, match="FLY_API_TOKEN"):
        run_program("dev", {}, set(), monkeypatch, token=None, preview=False)
