"""The providers' calls a deploy makes, one step each, for the provider tests (no engine: plain method calls)."""

from __future__ import annotations

from typing import Any

from pulumi.dynamic import CreateResult, ReadResult, UpdateResult

from components.image import DOCKER_DIR, build_args
from components.spaces import studio
from components.spaces.bucket import BucketProvider
from components.spaces.files import SpaceFilesProvider
from components.spaces.rollout import SpaceRolloutProvider
from components.spaces.secrets import SpaceSecretsProvider
from components.spaces.settings import SpacesSettings
from components.spaces.space import SpaceProvider
from components.spaces.variables import SpaceVariablesProvider
from components.spaces.volumes import SpaceVolumesProvider
from tests.spaces.conftest import OWNER, spaces_settings


def space_props(settings: SpacesSettings, owner: str = OWNER, **changes: Any) -> dict[str, Any]:
    props = {
        "repo_id": settings.repo_id,
        "hardware": settings.space_hardware,
        "sleep_seconds": settings.sleep_seconds,
        "private": settings.space_private,
        "owner": owner,
    }
    return {**props, **changes}


def files_props(settings: SpacesSettings) -> dict[str, Any]:
    return {
        "repo_id": settings.repo_id,
        "files": studio.context(settings),
        "readme": studio.space_card(settings),
        "context": str(DOCKER_DIR),
    }


def deploy(
    settings: SpacesSettings | None = None, token: str = "hf_space_token"
) -> dict[str, dict[str, Any]]:
    """Every resource created in the engine's order; returns each one's outputs by name."""
    settings = settings or spaces_settings()
    bucket = studio.bucket_id(settings, OWNER)
    outs: dict[str, dict[str, Any]] = {}
    outs["space"] = out_of(SpaceProvider().create(space_props(settings)))
    outs["bucket"] = out_of(BucketProvider().create({"bucket_id": bucket, "private": True, "owner": OWNER}))
    values = {**studio.environment(settings), **build_args(settings)}
    outs["variables"] = out_of(
        SpaceVariablesProvider().create({"repo_id": settings.repo_id, "values": values})
    )
    secrets = {"repo_id": settings.repo_id, "values": {"HF_TOKEN": token}}
    outs["secrets"] = out_of(SpaceSecretsProvider().create(secrets))
    mounts = {"repo_id": settings.repo_id, "mounts": studio.mounts(settings, bucket)}
    outs["volumes"] = out_of(SpaceVolumesProvider().create(mounts))
    outs["files"] = out_of(SpaceFilesProvider().create(files_props(settings)))
    outs["rollout"] = out_of(SpaceRolloutProvider().create(rollout_props(settings, outs)))
    return outs


def rollout_props(
    settings: SpacesSettings, outs: dict[str, dict[str, Any]], **changes: Any
) -> dict[str, Any]:
    props = {
        "repo_id": settings.repo_id,
        "commit": outs["files"]["commit"],
        "build_args": build_args(settings),
        "env": studio.environment(settings),
        "secrets_version": outs["secrets"]["version"],
        "volumes": outs["volumes"]["fingerprint"],
        "hardware": settings.space_hardware,
        "sleep_seconds": settings.sleep_seconds,
        "wait_timeout_s": 20.0,
    }
    return {**props, **changes}


def out_of(result: CreateResult | UpdateResult | ReadResult) -> dict[str, Any]:
    """A provider result's outputs (typed as possibly None by the SDK)."""
    assert result.outs is not None
    return dict(result.outs)
