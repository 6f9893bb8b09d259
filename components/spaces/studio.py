"""The Studio on Spaces: the Space, its bucket, variables, secrets, volumes and files, and the rollout.

Every resource is parented to the Studio component and waits for the stored-data guard. Order, so the first
build and every later change see what they need:

    Space --> Bucket (protected with protectData) --> Volumes --\\
      |--> Variables ------------------------------------------ +--> Files (one commit) --> Rollout (wait)
      '--> Secrets -------------------------------------------/                                  |
                                                                                SongsNotice <----'

The Space is made (or found to be someone else's) before anything else is written, so a copied stack stops
before any write. Variables (which the build reads as build arguments) are set before the files arrive. The
songs notice depends on everything, so a destroy meets it (and, with protectData, its protection) first.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import pulumi

from components.catalog import MODELS, RUNTIME_BUNDLE
from components.image import DOCKER_DIR, build_args, context_files
from components.platform import Deployment
from components.runtime import STUDIO_PORT, studio_env
from components.settings import PROJECT, PlatformName
from components.spec import StudioSpec

from . import catalog
from .bucket import Bucket, bucket_name
from .catalog import DATA_MOUNT, RUNTIME_MOUNT, WEIGHTS_DIR, model_dir
from .files import README, SpaceFiles, sha256
from .hub import ENDPOINT_ENV
from .pricing import estimate
from .rollout import SpaceRollout
from .secrets import SpaceSecrets
from .settings import SpacesSettings
from .songs_notice import SongsNotice
from .space import Space
from .variables import SpaceVariables
from .volumes import Mount, SpaceVolumes, mount

LICENCE = (
    "The LeVo / SongGeneration weights are published by Tencent for academic, research and education use "
    "only; commercial use is not permitted."
)


def hub_endpoint(settings: SpacesSettings) -> str:
    """Where the stack's Hub is: HF_ENDPOINT in the environment wins, as it does for the providers."""
    return (os.environ.get(ENDPOINT_ENV, "").strip() or settings.hub_endpoint).rstrip("/")


def bucket_id(settings: SpacesSettings, owner: str) -> str:
    return f"{settings.hf_namespace}/{bucket_name(owner)}"


def stored_data(settings: SpacesSettings, owner: str) -> dict[str, str]:
    """The bucket by its id: a new namespace or a renamed stack means a new, empty bucket."""
    bucket = bucket_id(settings, owner)
    return {bucket: f"bucket {bucket} (the songs, uploads and queue of Space {settings.repo_id})"}


def space_card(settings: SpacesSettings) -> str:
    """The Space repo's README.md: the front matter the Hub reads, and a line for people."""
    timeout = catalog.STARTUP_TIMEOUT_WITH_COPY if settings.copy_models else catalog.STARTUP_TIMEOUT
    return (
        "---\n"
        f"title: SongGeneration Studio ({settings.stack})\n"
        "emoji: 🎵\n"
        "colorFrom: indigo\n"
        "colorTo: purple\n"
        "sdk: docker\n"
        f"app_port: {STUDIO_PORT}\n"
        f"startup_duration_timeout: {timeout}\n"
        "pinned: false\n"
        "---\n\n"
        f"SongGeneration Studio, deployed by the {PROJECT} Pulumi project (stack `{settings.stack}`). "
        "Its files, variables, secrets and volumes are managed there: changes made here are put back by the "
        "next `pulumi up`.\n\n"
        f"{LICENCE}\n"
    )


def context(settings: SpacesSettings) -> dict[str, str]:
    """Path -> sha256 of every file the Space repo holds: docker/ and the generated README."""
    files = {p.relative_to(DOCKER_DIR).as_posix(): sha256(p.read_bytes()) for p in context_files(DOCKER_DIR)}
    files[README] = sha256(space_card(settings).encode())
    return files


def environment(settings: SpacesSettings) -> dict[str, str]:
    """What the entrypoint reads on Spaces (docker/songgen_boot's env contract)."""
    return {
        **studio_env(
            PlatformName.SPACES,
            models=list(dict.fromkeys(settings.models)),
            idle_stop_minutes=settings.idle_stop_minutes,
            data_path=DATA_MOUNT,
        ),
        "SONGGEN_WEIGHTS_DIR": WEIGHTS_DIR,
        "SONGGEN_COPY_MODELS": "1" if settings.copy_models else "0",
        "SONGGEN_DATA_BUCKET": "1",
        "SONGGEN_CACHE_DIR": catalog.LOCAL_CACHE_DIR,
        "SONGGEN_DRAIN_SECONDS": str(catalog.DRAIN_SECONDS),
    }


def mounts(settings: SpacesSettings, bucket: str) -> list[Mount]:
    weights = [
        mount("model", RUNTIME_BUNDLE.hf_repo, RUNTIME_MOUNT, revision=settings.revision_of("runtime")),
        *(
            mount(
                "model",
                MODELS[m].hf_repo,
                f"{WEIGHTS_DIR}/models/{model_dir(m)}",
                revision=settings.revision_of(m.value),
            )
            for m in dict.fromkeys(settings.models)
        ),
    ]
    return [*weights, mount("bucket", bucket, DATA_MOUNT)]


def deploy(
    parent: pulumi.ComponentResource,
    settings: SpacesSettings,
    spec: StudioSpec,
    after: Sequence[pulumi.Resource],
) -> Deployment:
    repo_id, bucket = settings.repo_id, bucket_id(settings, spec.owner)

    def options(*needs: pulumi.Resource, protect: bool = False) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=parent, depends_on=[*after, *needs], protect=protect)

    space = Space(
        "space",
        repo_id=repo_id,
        hardware=settings.space_hardware,
        sleep_seconds=settings.sleep_seconds,
        private=settings.space_private,
        owner=spec.owner,
        opts=options(),
    )
    data = Bucket(
        "bucket", bucket_id=bucket, owner=spec.owner, opts=options(space, protect=spec.data_protected)
    )
    variables = SpaceVariables(
        "variables",
        repo_id=repo_id,
        values={**environment(settings), **build_args(settings)},
        opts=options(space),
    )
    secrets: SpaceSecrets | None = None
    if spec.hf_token is not None:
        secrets = SpaceSecrets(
            "secrets",
            repo_id=repo_id,
            values={"HF_TOKEN": pulumi.Output.secret(spec.hf_token.get_secret_value())},
            opts=options(space),
        )
    volumes = SpaceVolumes(
        "volumes", repo_id=repo_id, mounts=mounts(settings, bucket), opts=options(space, data)
    )
    files = SpaceFiles(
        "files",
        repo_id=repo_id,
        files=context(settings),
        readme=space_card(settings),
        context=str(DOCKER_DIR),
        opts=options(space, variables, volumes, *([secrets] if secrets else [])),
    )
    rollout = SpaceRollout(
        "rollout",
        repo_id=repo_id,
        commit=files.commit,
        build_args=build_args(settings),
        env=environment(settings),
        secrets_version=secrets.version if secrets else None,
        volumes=volumes.fingerprint,
        hardware=settings.space_hardware,
        sleep_seconds=settings.sleep_seconds,
        wait_timeout_s=settings.space_wait_minutes * 60.0,
        opts=options(files),
    )
    SongsNotice(bucket_id=bucket, opts=options(rollout, protect=spec.data_protected))
    hub = hub_endpoint(settings)
    runs: list[Any] = [
        {
            "id": repo_id,
            "kind": "hugging face space",
            "where": settings.space_hardware,
            "stage": rollout.stage,
        }
    ]
    stores: list[Any] = [
        {
            "id": data.bucket_id,
            "kind": "hub bucket",
            "where": settings.hf_namespace,
            "holds": "songs, uploads, queue",
        }
    ]
    return Deployment(
        url=space.host,
        image=pulumi.Output.concat(repo_id, "@", files.commit),
        runs=pulumi.Output.all(*runs),
        stores=pulumi.Output.all(*stores),
        cost=estimate(settings),
        look={
            "logs": f"{hub}/spaces/{repo_id}?logs=container (the build: ?logs=build)",
            "settings": f"{hub}/spaces/{repo_id}/settings",
            "shell": "none outside dev mode; the logs show the boot, the mounts and the Studio",
            "wake": "a visit to the url wakes a sleeping Space (it restarts: a minute or more before it answers)",
        },
        extras={
            "space": repo_id,
            "bucket": data.bucket_id,
            "hardware": settings.space_hardware,
            "weights": volumes.resolved.apply(
                lambda resolved: {m["source"]: m["revision"] for m in resolved if m["type"] != "bucket"}
            ),
        },
    )
