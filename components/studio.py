"""SongGenStudio: the Fly app, its addresses and secrets, the image, and per machine a cache volume.

Every child is parented to the component, so `pulumi stack` shows one tree and a destroy takes all
of it. Machines depend on their own volume only; volumes are forked from the first one in their
region, so a second machine there starts with the models the first one downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.dynamic import ownership
from components.dynamic.data_guard import StoredData
from components.fly.app import App
from components.fly.catalog import GPU_END_OF_LIFE
from components.fly.ip import IpAssignment
from components.fly.machine import Machine
from components.fly.secrets import AppSecrets
from components.fly.volume import Volume
from components.image import EXPECTED_IMAGE_GB, StudioImage
from components.machine_spec import machine_config, volume_compute_hint
from components.pricing import CostEstimate, estimate
from components.settings import StackSettings


@dataclass(frozen=True)
class Placement:
    """One machine and its volume: the i-th (from 1) of its region."""

    region: str
    index: int

    @property
    def machine_name(self) -> str:
        return f"studio-{self.region}-{self.index}"

    @property
    def volume_name(self) -> str:
        # Fly volume names: lowercase letters, digits and underscores, at most 30 characters.
        return f"cache_{self.region}_{self.index}"


def placements(settings: StackSettings) -> list[Placement]:
    return [
        Placement(region, index)
        for region, count in sorted(settings.machine_regions.items())
        for index in range(1, count + 1)
    ]


def gpu_end_of_life_notice(settings: StackSettings) -> str:
    """Said in every preview, before anything is created: the fact that decides what `up` can do."""
    eol = (
        f"Fly.io stopped offering GPU Machines on {GPU_END_OF_LIFE.isoformat()}; its API now rejects any "
        "machine whose guest has a GPU with HTTP 400"
    )
    if settings.emulated:
        return (
            f"This stack targets an emulated Fly API at {settings.fly_api_url}. {eol}; the emulator does the "
            "same unless it was started with GPUs offered."
        )
    return (
        f"{eol}. `pulumi up` creates the app, its addresses, secrets and volumes, then stops at the first "
        f"machine ({settings.gpu_kind.value}); `pulumi destroy` removes what was created. The machine spec "
        "stays complete for a GPU provider that exists."
    )


class SongGenStudio(pulumi.ComponentResource):
    url: pulumi.Output[str]
    app_name: pulumi.Output[str]
    image_ref: pulumi.Output[str]
    machines: list[Machine]
    volumes: list[Volume]
    cost: CostEstimate

    def __init__(
        self,
        name: str,
        settings: StackSettings,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("songgen:studio:SongGenStudio", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        owner = ownership.current_owner()
        # First, and everything waits for it: an edit that would lose stored songs is said (or refused)
        # before anything changes.
        guard = StoredData(
            "stored-data",
            stores={
                f"{settings.app_name}/{place.volume_name}": (
                    f"volume {place.volume_name} of app {settings.app_name} "
                    f"({settings.volume_size_gb} GB in {place.region})"
                )
                for place in placements(settings)
            },
            protect=settings.data_protected,
            opts=child,
        )
        child = pulumi.ResourceOptions(parent=self, depends_on=[guard])
        app = App("app", name=settings.app_name, org_slug=settings.org, owner=owner, opts=child)
        in_app = pulumi.ResourceOptions(parent=self, depends_on=[guard, app])
        ips = [
            IpAssignment(f"ip-{kind}", app_name=app.name, type=kind, opts=in_app)
            for kind in ("v6", "shared_v4")
        ]
        secrets_version: pulumi.Output[int] | None = None
        if settings.hf_token is not None:
            secrets = AppSecrets(
                "secrets",
                app_name=app.name,
                values={"HF_TOKEN": pulumi.Output.secret(settings.hf_token.get_secret_value())},
                opts=in_app,
            )
            secrets_version = secrets.version

        image = StudioImage(
            "image", settings, depends_on=[guard, app], opts=pulumi.ResourceOptions(parent=self)
        )

        self.volumes = []
        self.machines = []
        first_in_region: dict[str, Volume] = {}
        for place in placements(settings):
            source = first_in_region.get(place.region)
            volume = Volume(
                place.volume_name.replace("_", "-"),
                app_name=app.name,
                name=place.volume_name,
                region=place.region,
                size_gb=settings.volume_size_gb,
                encrypted=True,
                compute=volume_compute_hint(settings),
                source_volume_id=source.volume_id if source is not None else None,
                opts=in_app,
            )
            first_in_region.setdefault(place.region, volume)
            config = pulumi.Output.all(image.ref, volume.volume_id).apply(
                lambda args: machine_config(settings, image=args[0], volume_id=args[1])
            )
            machine = Machine(
                place.machine_name,
                app_name=app.name,
                name=place.machine_name,
                region=place.region,
                config=config,
                owner=owner,
                secrets_version=secrets_version,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[guard, app, volume, *ips]),
            )
            self.volumes.append(volume)
            self.machines.append(machine)

        self.app_name = app.name
        self.url = app.name.apply(lambda n: f"https://{n}.fly.dev")
        self.image_ref = image.ref
        self.cost = estimate(
            settings, image_size_gb=EXPECTED_IMAGE_GB, busy_hours_per_month=settings.busy_hours_per_month
        )
        self.register_outputs({"url": self.url, "app_name": self.app_name, "image_ref": self.image_ref})
