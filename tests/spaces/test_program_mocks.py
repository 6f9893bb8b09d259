"""The program of a Spaces stack under Pulumi's mocks: the neutral description turned into Space resources."""

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

from components.image import context_files
from components.spaces.bucket import bucket_name
from components.spaces.pricing import estimate
from tests.spaces.conftest import spaces_settings

ROOT = Path(__file__).resolve().parents[2]
STUDIO = "songgen:studio:SongGenStudio"
SPACES = "pulumi-python:dynamic/spaces:"
OWNER = "organization/songgen-studio/dev"
COMMIT = "c" * 40


class SpacesMocks(pulumi.runtime.Mocks):
    """Answers as the providers would: the outputs each Spaces resource adds to its inputs."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        outs = dict(args.inputs)
        kind = args.typ.rsplit(":", 1)[-1]
        if kind == "Space":
            outs["host"] = f"https://{outs['repo_id'].replace('/', '-')}.hf.space"
        elif kind == "SpaceFiles":
            outs["commit"] = COMMIT
        elif kind == "SpaceVolumes":
            outs["resolved"] = [{**m, "revision": m.get("revision") and "r" * 40} for m in outs["mounts"]]
            outs["fingerprint"] = "f" * 16
        elif kind == "SpaceSecrets":
            outs["version"] = 1
        elif kind == "SpaceRollout":
            outs["stage"] = "RUNNING"
        return f"{args.name}-id", outs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


@dataclass
class Program:
    resources: dict[str, MockMonitor.ResourceRegistration]
    outputs: dict[str, Any]

    def of_kind(self, kind: str) -> dict[str, Any]:
        (state,) = [r.state for urn, r in self.resources.items() if f"${SPACES}{kind}::" in urn]
        return state


@pytest.fixture(autouse=True)
def _event_loop() -> Iterator[None]:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield
    loop.close()


def run_program(monkeypatch: pytest.MonkeyPatch, stack: str = "dev", **raw: Any) -> Program:
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    config = {"platform": "spaces", "hfNamespace": "alice", "hfToken": "hf_mocked_value", **raw}
    mocks = SpacesMocks()
    monitor = MockMonitor(mocks)
    pulumi.runtime.set_mocks(
        mocks,
        project="songgen-studio",
        stack=stack,
        preview=False,
        monitor=monitor,
        organization="organization",
    )
    pulumi.runtime.set_all_config(
        {f"songgen-studio:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in config.items()},
        ["songgen-studio:hfToken"],
    )
    outputs: dict[str, Any] = {}

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def body() -> pulumi.Output[Any]:
        deployment = runpy.run_path(str(ROOT / "__main__.py"))["deployment"]
        outputs["cost"], outputs["look"] = deployment.cost, deployment.look
        resolved = {"url": deployment.url, "image": deployment.image, "runs": deployment.runs,
                    "stores": deployment.stores, **deployment.extras}  # fmt: skip
        return pulumi.Output.from_input(resolved).apply(outputs.update)

    body()
    return Program(monitor.get_registered_resources(), outputs)


def test_a_spaces_stack_declares_the_space_and_what_it_holds_under_the_studio_component(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    program = run_program(monkeypatch)
    kinds = sorted(urn.split("::")[2].rsplit(":", 1)[-1] for urn in program.resources if SPACES in urn)
    assert kinds == [
        "Bucket",
        "SongsNotice",
        "Space",
        "SpaceFiles",
        "SpaceRollout",
        "SpaceSecrets",
        "SpaceVariables",
        "SpaceVolumes",
    ]
    for urn in program.resources:
        if SPACES in urn or "StoredData" in urn:
            assert f"::{STUDIO}$" in urn, urn
    space = program.of_kind("Space")
    assert space == {**space, "repo_id": "alice/songgen-studio-dev", "hardware": "l40sx1", "sleep_seconds": 900,
                     "private": True, "owner": OWNER}  # fmt: skip


def test_the_space_gets_the_entrypoints_spaces_contract_and_the_pins_as_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    program = run_program(monkeypatch, idleStopMinutes=20, copyModels=True, models=["base", "large"])
    values = program.of_kind("SpaceVariables")["values"]
    settings = spaces_settings()
    assert values == {
        "PORT": "7860",
        "SONGGEN_PLATFORM": "spaces",
        "SONGGEN_MODELS": "base,large",
        "SONGGEN_IDLE_STOP_MINUTES": "20",
        "SONGGEN_DATA_DIR": "/data",
        "SONGGEN_DATA_BUCKET": "1",
        "SONGGEN_WEIGHTS_DIR": "/weights",
        "SONGGEN_COPY_MODELS": "1",
        "SONGGEN_CACHE_DIR": "/opt/songgen/local/cache",
        "SONGGEN_DRAIN_SECONDS": "300",
        "STUDIO_COMMIT": settings.studio_commit,
        "TENCENT_COMMIT": settings.songgen_commit,
    }
    assert program.of_kind("Space")["sleep_seconds"] == 20 * 60  # the sleep timer is the idle minutes


def test_weights_are_mounted_read_only_where_the_entrypoint_links_them_and_the_bucket_read_write_at_data(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pin = "0123456789abcdef0123456789abcdef01234567"
    program = run_program(monkeypatch, models=["base-new", "large"], weightRevisions={"large": pin})
    bucket = f"alice/{bucket_name(OWNER)}"
    assert program.of_kind("SpaceVolumes")["mounts"] == [
        {"type": "model", "source": "lglg666/SongGeneration-Runtime", "mount_path": "/weights/runtime",
         "revision": "main", "read_only": True},
        {"type": "model", "source": "lglg666/SongGeneration-base-new",
         "mount_path": "/weights/models/songgeneration_base_new", "revision": "main", "read_only": True},
        {"type": "model", "source": "lglg666/SongGeneration-large",
         "mount_path": "/weights/models/songgeneration_large", "revision": pin, "read_only": True},
        {"type": "bucket", "source": bucket, "mount_path": "/data", "read_only": False},  # no revision
    ]  # fmt: skip
    assert program.of_kind("Bucket")["bucket_id"] == bucket
    assert program.of_kind("Bucket")["private"] is True


def test_the_files_are_the_docker_context_and_a_generated_front_matter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = run_program(monkeypatch).of_kind("SpaceFiles")
    docker = ROOT / "docker"
    assert set(files["files"]) == {p.relative_to(docker).as_posix() for p in context_files(docker)} | {
        "README.md"
    }
    assert "Dockerfile" in files["files"]
    assert "songgen_boot/__main__.py" in files["files"]
    front, _, body = files["readme"].removeprefix("---\n").partition("---\n")
    assert "sdk: docker\n" in front
    assert "app_port: 7860\n" in front
    assert "startup_duration_timeout: 30m\n" in front
    assert "commercial use is not permitted" in body


def test_the_token_travels_only_as_a_secret_to_the_space_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    program = run_program(monkeypatch)
    secrets = program.of_kind("SpaceSecrets")
    assert rpc.is_rpc_secret(secrets["values"])
    for urn, registration in program.resources.items():
        if "SpaceSecrets" not in urn:
            assert "hf_mocked_value" not in repr(registration.state), urn
    assert program.of_kind("SpaceRollout")["secrets_version"] == 1


def test_outputs_name_the_space_the_bucket_the_image_commit_and_the_cost(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    program = run_program(monkeypatch, busyHoursPerMonth=10)
    outputs = program.outputs
    bucket = f"alice/{bucket_name(OWNER)}"
    assert outputs["url"] == "https://alice-songgen-studio-dev.hf.space"
    assert outputs["image"] == f"alice/songgen-studio-dev@{COMMIT}"
    assert outputs["runs"] == [{"id": "alice/songgen-studio-dev", "kind": "hugging face space", "where": "l40sx1",
                                "stage": "RUNNING"}]  # fmt: skip
    assert outputs["stores"][0]["id"] == bucket
    assert outputs["space"] == "alice/songgen-studio-dev"
    assert outputs["bucket"] == bucket
    assert outputs["weights"] == {
        "lglg666/SongGeneration-Runtime": "r" * 40,
        "lglg666/SongGeneration-base": "r" * 40,
    }
    assert outputs["cost"] == estimate(spaces_settings(busyHoursPerMonth=10))
    assert outputs["look"]["logs"].startswith(
        "https://huggingface.co/spaces/alice/songgen-studio-dev?logs=container"
    )


def test_the_stored_data_guard_watches_the_bucket(monkeypatch: pytest.MonkeyPatch) -> None:
    program = run_program(monkeypatch, stack="prod-eu")
    (guard,) = [r.state for urn, r in program.resources.items() if "StoredData" in urn]
    bucket = f"alice/{bucket_name('organization/songgen-studio/prod-eu')}"
    assert guard["stores"] == {
        bucket: f"bucket {bucket} (the songs, uploads and queue of Space alice/songgen-studio-prod-eu)"
    }
    assert guard["protect"] is True  # a prod-like stack protects its songs
    (notice,) = [urn for urn in program.resources if "SongsNotice" in urn]
    assert notice.endswith("::destroy-deletes-the-songs-in-the-bucket")
