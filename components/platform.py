"""The one interface every place the Studio runs implements, and what it hands back.

The Studio never chooses where to run: the stack names its platform. So a platform needs only a few things
(SkyPilot's `Cloud` has dozens because it chooses): its settings model, what it cannot do and why, the notices
said in every preview, the stores that hold songs and caches, and `deploy`, which declares its resources under
the Studio component and returns the same outputs as every other platform. `PlatformOf` does for every platform
what is alike: the stack's settings narrowed to the platform's own model, handed to the platform's own functions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

import pulumi

from components.cost import CostEstimate
from components.settings import PlatformName, StudioSettings
from components.spec import StudioSpec


@dataclass
class Deployment:
    """What a deployed Studio is, the same on every platform (the stack's outputs)."""

    url: pulumi.Output[str]
    image: pulumi.Output[str]
    # What runs: [{"id", "kind", "where"}]; what is stored: [{"id", "kind", "holds"}].
    runs: pulumi.Output[list[dict[str, Any]]]
    stores: pulumi.Output[list[dict[str, Any]]]
    cost: CostEstimate
    # Where a person looks next: {"logs": "...", "shell": "...", "wake": "..."}.
    look: Mapping[str, str] = field(default_factory=dict)
    # The platform's own outputs (Fly: app, machines, volumes), exported beside the common ones.
    extras: Mapping[str, Any] = field(default_factory=dict)


class Platform(Protocol):
    name: PlatformName
    settings_model: type[StudioSettings]
    # Features the Studio would use that this platform does not offer, and why: said in one place.
    unsupported: Mapping[str, str]

    def notices(self, settings: StudioSettings) -> list[str]:
        """Said in every preview and up, once."""
        ...

    def stored_data(self, settings: StudioSettings) -> Mapping[str, str]:
        """The stores holding songs and caches: a key that lasts exactly as long as the data -> a description."""
        ...

    def deploy(
        self,
        parent: pulumi.ComponentResource,
        settings: StudioSettings,
        spec: StudioSpec,
        after: Sequence[pulumi.Resource],
    ) -> Deployment:
        """Declare the platform's resources, every one parented to `parent` and waiting for `after`."""
        ...


S = TypeVar("S", bound=StudioSettings)


class PlatformOf(Generic[S]):
    """What every platform object does alike; a platform adds its name, `unsupported` and `notices`.

    `deploy` and `stored_data` check that the stack's settings are the platform's own model (the registry pairs
    each platform with its model) and hand them to the platform's functions, which take that model.
    """

    def __init__(
        self,
        model: type[S],
        *,
        deploy: Callable[[pulumi.ComponentResource, S, StudioSpec, Sequence[pulumi.Resource]], Deployment],
        stores: Callable[[S], Mapping[str, str]],
    ) -> None:
        self.settings_model: type[StudioSettings] = model
        self._model = model
        self._deploy = deploy
        self._stores = stores

    def own(self, settings: StudioSettings) -> S:
        """The stack's settings as this platform's model."""
        assert isinstance(settings, self._model)  # the registry pairs this platform with this model
        return settings

    def stored_data(self, settings: StudioSettings) -> Mapping[str, str]:
        return self._stores(self.own(settings))

    def deploy(
        self,
        parent: pulumi.ComponentResource,
        settings: StudioSettings,
        spec: StudioSpec,
        after: Sequence[pulumi.Resource],
    ) -> Deployment:
        return self._deploy(parent, self.own(settings), spec, after)
