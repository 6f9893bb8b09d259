"""The Studio's CUDA image: built here with pulumi-docker, built on Fly's remote builders, or prebuilt.

Whatever the builder, machines receive an immutable reference: a digest where the builder reports
one, else a tag derived from the build's content. An unchanged image therefore never changes a
machine's config, and so never restarts it.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
from pathlib import Path

import pulumi

from components.settings import PROJECT, ImageBuilder, StackSettings

REGISTRY = "registry.fly.io"
DOCKER_DIR = Path(__file__).resolve().parent.parent / "docker"
PLATFORM = "linux/amd64"
# Unpacked size of the image as bench/image_size estimates it (Python layer measured, base and app
# estimated); the stopped-machine rootfs part of the cost estimate is billed on it.
EXPECTED_IMAGE_GB = 7.4

_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def build_args(settings: StackSettings) -> dict[str, str]:
    """The Dockerfile's pins: the Studio and Tencent's SongGeneration repository."""
    return {"STUDIO_COMMIT": settings.studio_commit, "TENCENT_COMMIT": settings.songgen_commit}


def content_tag(settings: StackSettings, context: Path = DOCKER_DIR) -> str:
    """A tag that changes exactly when the build would: the pins and every file of the context."""
    digest = hashlib.sha256()
    for key, value in sorted(build_args(settings).items()):
        digest.update(f"{key}={value}\n".encode())
    for path in sorted(p for p in context.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(context).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return f"{settings.studio_commit[:7]}-{settings.songgen_commit[:7]}-{digest.hexdigest()[:12]}"


def fly_token() -> pulumi.Output[str]:
    """The Fly token from FLY_API_TOKEN or the stack's secret config, always as a secret output.

    A preview builds nothing, so it goes on without a token and says what `up` will need.
    """
    token = os.environ.get("FLY_API_TOKEN") or pulumi.Config(PROJECT).get_secret("flyApiToken")
    if token is not None:
        return pulumi.Output.secret(token)
    message = (
        "building the image needs a Fly token: export FLY_API_TOKEN=$(fly tokens create deploy) "
        "or `pulumi config set --secret flyApiToken ...`"
    )
    if not pulumi.runtime.is_dry_run():
        raise pulumi.RunError(message)
    pulumi.log.warn(f"no Fly token: {message}")
    return pulumi.Output.secret("")


def registry_password() -> pulumi.Output[str]:
    """registry.fly.io takes the token without its auth scheme as the password of user `x`."""
    return fly_token().apply(lambda t: t.removeprefix("FlyV1 ").removeprefix("Bearer "))


def fly_remote_command(settings: StackSettings, tag: str, context: Path = DOCKER_DIR) -> str:
    """flyctl builds and pushes on Fly's builders; the label makes the pushed tag the content tag."""
    args = [
        "flyctl", "deploy", str(context),
        "--app", settings.app_name,
        "--dockerfile", str(context / "Dockerfile"),
        "--build-only", "--push",
        "--image-label", tag,
        "--remote-only",
    ]  # fmt: skip
    for key, value in build_args(settings).items():
        args += ["--build-arg", f"{key}={value}"]
    return shlex.join(args)


def reference_from_flyctl_output(stdout: str, fallback: str) -> str:
    """flyctl prints the pushed digest; pin to it when present, else to the content tag."""
    match = _DIGEST.search(stdout)
    return f"{fallback.rsplit(':', 1)[0]}@{match.group(0)}" if match else fallback


class StudioImage(pulumi.ComponentResource):
    """The image reference machines run: `ref` is a digest-pinned or content-tagged reference."""

    ref: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        settings: StackSettings,
        *,
        depends_on: list[pulumi.Resource] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("songgen:studio:Image", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, depends_on=depends_on or [])
        builder = settings.image_builder

        if builder is ImageBuilder.PREBUILT:
            assert settings.image is not None  # guaranteed by settings validation
            self.ref = pulumi.Output.from_input(settings.image)
        else:
            tag = content_tag(settings)
            tagged = f"{REGISTRY}/{settings.app_name}:{tag}"
            if builder is ImageBuilder.LOCAL:
                self.ref = self._build_locally(settings, tagged, child)
            else:
                self.ref = self._build_on_fly(settings, tag, tagged, child)
        self.register_outputs({"ref": self.ref})

    @staticmethod
    def _build_locally(
        settings: StackSettings, tagged: str, opts: pulumi.ResourceOptions
    ) -> pulumi.Output[str]:
        import pulumi_docker as docker

        image = docker.Image(
            "studio-local-build",
            image_name=tagged,
            build=docker.DockerBuildArgs(
                context=str(DOCKER_DIR),
                dockerfile=str(DOCKER_DIR / "Dockerfile"),
                platform=PLATFORM,
                args=build_args(settings),
            ),
            registry=docker.RegistryArgs(server=REGISTRY, username="x", password=registry_password()),
            skip_push=False,
            build_on_preview=False,
            opts=opts,
        )
        return image.repo_digest

    @staticmethod
    def _build_on_fly(
        settings: StackSettings, tag: str, tagged: str, opts: pulumi.ResourceOptions
    ) -> pulumi.Output[str]:
        from pulumi_command import local

        build = local.Command(
            "studio-remote-build",
            create=fly_remote_command(settings, tag),
            environment={"FLY_API_TOKEN": fly_token()},
            triggers=[tag],
            opts=opts,
        )
        return build.stdout.apply(lambda out: reference_from_flyctl_output(out or "", tagged))
