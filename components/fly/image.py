"""The image a Fly stack's machines run: built here and pushed to registry.fly.io, built on Fly's remote
builders, or a prebuilt reference. See components/image.py for what every builder shares."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pulumi

from components import plugins
from components.image import DOCKER_DIR, build_and_push, build_args, content_tag
from components.settings import PROJECT

from .settings import FlySettings, ImageBuilder

REGISTRY = "registry.fly.io"
PREBUILT_OR_REMOTE = (
    "set imageBuilder to 'prebuilt' with image: <registry/repository:tag>, or to 'fly-remote' (Fly's builders, "
    "with flyctl)"
)
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


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


def fly_remote_command(settings: FlySettings, tag: str, context: Path = DOCKER_DIR) -> str:
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
        settings: FlySettings,
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
                plugins.require(
                    "docker",
                    "pulumi-docker",
                    needed_for="songgen-studio:imageBuilder 'local'",
                    instead=PREBUILT_OR_REMOTE,
                )
                self.ref = self._build_locally(settings, tagged, child)
            else:
                plugins.require(
                    "command",
                    "pulumi-command",
                    needed_for="songgen-studio:imageBuilder 'fly-remote'",
                    instead="set imageBuilder to 'prebuilt' with image: <registry/repository:tag>",
                )
                self.ref = self._build_on_fly(settings, tag, tagged, child)
        self.register_outputs({"ref": self.ref})

    @staticmethod
    def _build_locally(
        settings: FlySettings, tagged: str, opts: pulumi.ResourceOptions
    ) -> pulumi.Output[str]:
        import pulumi_docker as docker

        registry = docker.RegistryArgs(server=REGISTRY, username="x", password=registry_password())
        return build_and_push(
            "studio-local-build", image_name=tagged, settings=settings, registry=registry, opts=opts
        )

    @staticmethod
    def _build_on_fly(
        settings: FlySettings, tag: str, tagged: str, opts: pulumi.ResourceOptions
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
