"""What every Spaces dynamic provider shares beyond components.dynamic: the Hub client per call.

A provider object is pickled into the state: it keeps no attributes; the Hub client is built per call.
"""

from __future__ import annotations

from collections.abc import Iterable

from components.dynamic import host
from components.dynamic.api_error import Subject
from components.dynamic.provider import ApiProvider

from . import hub

# In the provider process: our errors without tracebacks, and an exit once the engine is gone.
host.attach()


class SpacesProvider(ApiProvider):
    """Base for the Spaces providers. Holds no state: everything it needs is read per call."""

    stack_config = hub.STACK_CONFIG

    def connect(self, name: str, *, redact: Iterable[str] = ()) -> hub.Hub:
        return hub.Hub(Subject(self.kind, name), redact=redact)
