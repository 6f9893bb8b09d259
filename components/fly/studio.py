"""The Studio on Fly: the app, its addresses and secrets, the image, and per machine a cache volume.

Every resource is parented to the Studio component (as it was before platforms existed, so existing stacks
keep every URN), and waits for what must exist first: the stored-data guard, the app, a machine's own volume.
Volumes are forked from the first one in their region, so a second machine there starts with the models the
first one downloaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from components.image import EXPECTED_IMAGE_GB
from components.platform import Deployment
from components.spec import StudioSpec

from .app import App
from .image import StudioImage
from .ip import IpAssignment
from .machine import Machine
from .machine_spec import machine_config, volume_compute_hint
from .pricing import estimate
from .secrets import AppSecrets
from .settings import FlySettings
from .volume import Volume


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


def placements(settings: FlySettings) -> list[Placement]:
    return [
        Placement(region, index)
        for region, count in sorted(settings.machines_per_region.items())
        for index in range(1, count + 1)
    ]


def stored_data(settings: FlySettings) -> dict[str, str]:
    """Each volume by its app and name: a new app or a region the volume leaves loses what it holds."""
    return {
        f"{settings.app_name}/{place.volume_name}": (
            f"volume {place.volume_name} of app {settings.app_name} ({settings.volume_size_gb} GB in {place.region})"
        )
        for place in placements(settings)
    }


def deploy(
    parent: pulumi.ComponentResource,
    settings: FlySettings,
    spec: StudioSpec,
    after: Sequence[pulumi.Resource],
) -> Deployment:
    first = pulumi.ResourceOptions(parent=parent, depends_on=list(after))
    app = App("app", name=settings.app_name, org_slug=settings.org, owner=spec.owner, opts=first)
    in_app = pulumi.ResourceOptions(parent=parent, depends_on=[*after, app])
    ips = [
        IpAssignment(f"ip-{kind}", app_name=app.name, type=kind, opts=in_app) for kind in ("v6", "shared_v4")
    ]
    secrets_version: pulumi.Output[int] | None = None
    if spec.hf_token is not None:
        secrets = AppSecrets(
            "secrets",
            app_name=app.name,
            values={"HF_TOKEN": pulumi.Output.secret(spec.hf_token.get_secret_value())},
            opts=in_app,
        )
        secrets_version = secrets.version

    image = StudioImage(
        "image", settings, depends_on=[*after, app], opts=pulumi.ResourceOptions(parent=parent)
    )

    volumes: list[Volume] = []
    machines: list[Machine] = []
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
        machines.append(
            Machine(
                place.machine_name,
                app_name=app.name,
                name=place.machine_name,
                region=place.region,
                config=config,
                owner=spec.owner,
                secrets_version=secrets_version,
                opts=pulumi.ResourceOptions(parent=parent, depends_on=[*after, app, volume, *ips]),
            )
        )
        volumes.append(volume)

    runs: list[Any] = [
        {"id": m.machine_id, "kind": "fly machine", "where": m.region, "name": m.name} for m in machines
    ]
    stores: list[Any] = [
        {
            "id": v.volume_id,
            "kind": "fly volume",
            "where": v.region,
            "holds": "model cache, songs, uploads, queue",
        }
        for v in volumes
    ]
    name = settings.app_name
    return Deployment(
        url=app.name.apply(lambda n: f"https://{n}.fly.dev"),
        image=image.ref,
        runs=pulumi.Output.all(*runs),
        stores=pulumi.Output.all(*stores),
        cost=estimate(settings, image_size_gb=EXPECTED_IMAGE_GB),
        look={
            "logs": f"fly logs -a {name}",
            "shell": f"fly ssh console -a {name}",
            "machines": f"fly machines list -a {name}",
            "wake": "any request to the URL starts a stopped machine (Fly's proxy autostart)",
        },
        extras={
            "app": app.name,
            "machines": pulumi.Output.all(*[{"id": m.machine_id, "region": m.region} for m in machines]),
            "volumes": pulumi.Output.all(*[v.volume_id for v in volumes]),
        },
    )
