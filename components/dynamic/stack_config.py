"""The stack's config as a provider process received it: settings read per call, never pickled.

The engine hands a provider process the stack's config through `configure()`. What a platform needs from it (an
API address, a token) is kept here, in the process, for as long as it lives, and never on the provider object:
provider objects are pickled into the Pulumi state, and a token must never be.
"""

from __future__ import annotations

import os
from typing import Any


class StackConfig:
    """Some keys of the stack's config, as the last `configure()` in this process gave them."""

    def __init__(self, *keys: str) -> None:
        self._keys = keys
        self._values: dict[str, str] = {}

    def remember(self, config: Any) -> None:
        """Keep this config's keys (from a `pulumi.dynamic.Config`, or any mapping); a blank one is forgotten."""
        for key in self._keys:
            value = config.get(key)
            if isinstance(value, str) and value.strip():
                self._values[key] = value.strip()
            else:
                self._values.pop(key, None)

    def forget(self) -> None:
        self._values.clear()

    def setting(self, env: str, key: str) -> str:
        """The environment variable `env` when it is set, else the stack's `key`; "" when neither is."""
        return os.environ.get(env, "").strip() or self._values.get(key, "")
