"""The base of every provider that drives a platform's API: it holds no state, and takes the stack's config from
`configure()` into the process (stack_config), never onto itself (providers are pickled into the state)."""

from __future__ import annotations

from typing import ClassVar

from pulumi.dynamic import ConfigureRequest, ResourceProvider

from .stack_config import StackConfig


class ApiProvider(ResourceProvider):
    # What a person calls one of these resources ("machine", "space"): errors name it with its name.
    kind: ClassVar[str] = "resource"
    # The stack config keys the platform's client reads.
    stack_config: ClassVar[StackConfig]

    def configure(self, req: ConfigureRequest) -> None:
        self.stack_config.remember(req.config)
