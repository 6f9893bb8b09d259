"""SongGenStudio: one Studio, declared by the stack's platform, with the same outputs wherever it runs.

The component builds the platform-neutral description of what the Studio needs (`StudioSpec`), declares the
stored-data guard first (everything waits for it, so an edit that would lose songs is said or refused before
anything changes), and hands the rest to the platform package. Every child is parented to the component, so
`pulumi stack` shows one tree and a destroy takes all of it.
"""

from __future__ import annotations

import pulumi

from components.dynamic import ownership
from components.dynamic.data_guard import StoredData
from components.platform import Deployment
from components.platforms import platform_of
from components.settings import StudioSettings
from components.spec import StudioSpec


class SongGenStudio(pulumi.ComponentResource):
    deployment: Deployment

    def __init__(
        self, name: str, settings: StudioSettings, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("songgen:studio:SongGenStudio", name, None, opts)
        platform = platform_of(settings)
        spec = StudioSpec.of(settings, owner=ownership.current_owner())
        guard = StoredData(
            "stored-data",
            stores=platform.stored_data(settings),
            protect=spec.data_protected,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.deployment = platform.deploy(self, settings, spec, [guard])
        self.register_outputs({"url": self.deployment.url, "image": self.deployment.image})
