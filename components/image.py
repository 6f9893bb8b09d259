"""The Studio's image, whatever registry it goes to: its build context, its pins, its content tag, a local build.

Where the image goes and who builds it is each platform's business (Fly: registry.fly.io or Fly's remote
builders; Kubernetes: a registry the stack names; Spaces: the Hub builds the same context itself). Whatever
the builder, what runs gets an immutable reference: a digest where the builder reports one, else a tag derived
from the build's content, so an unchanged image never changes what runs.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pulumi

from components.settings import StudioSettings

DOCKER_DIR = Path(__file__).resolve().parent.parent / "docker"
PLATFORM = "linux/amd64"
# Unpacked size of the image as bench/image_size estimates it (Python layer measured, base and app
# estimated); a stopped Fly machine's rootfs is billed on it.
EXPECTED_IMAGE_GB = 7.4
# What the context carries that no image needs: its own documentation.
NOT_IN_CONTEXT = frozenset({"README.md"})


def build_args(settings: StudioSettings) -> dict[str, str]:
    """The Dockerfile's pins: the Studio and Tencent's SongGeneration repository."""
    return {"STUDIO_COMMIT": settings.studio_commit, "TENCENT_COMMIT": settings.songgen_commit}


def context_files(context: Path = DOCKER_DIR) -> list[Path]:
    """Every file of the build context, in a stable order (no bytecode caches)."""
    return sorted(
        p
        for p in context.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.name not in NOT_IN_CONTEXT
    )


def content_tag(settings: StudioSettings, context: Path = DOCKER_DIR) -> str:
    """A tag that changes exactly when the build would: the pins and every file of the context."""
    digest = hashlib.sha256()
    for key, value in sorted(build_args(settings).items()):
        digest.update(f"{key}={value}\n".encode())
    for path in context_files(context):
        digest.update(path.relative_to(context).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return f"{settings.studio_commit[:7]}-{settings.songgen_commit[:7]}-{digest.hexdigest()[:12]}"


def build_and_push(
    resource_name: str,
    *,
    image_name: str,
    settings: StudioSettings,
    registry: Any,
    opts: pulumi.ResourceOptions,
) -> pulumi.Output[str]:
    """docker build here and push (pulumi-docker); the pushed digest is what runs."""
    import pulumi_docker as docker

    image = docker.Image(
        resource_name,
        image_name=image_name,
        build=docker.DockerBuildArgs(
            context=str(DOCKER_DIR),
            dockerfile=str(DOCKER_DIR / "Dockerfile"),
            platform=PLATFORM,
            args=build_args(settings),
        ),
        registry=registry,
        skip_push=False,
        build_on_preview=False,
        opts=opts,
    )
    digest: pulumi.Output[str] = image.repo_digest
    return digest
