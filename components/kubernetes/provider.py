"""What the Kubernetes platform's own dynamic providers share: credentials from the stack config, our errors
without tracebacks, the ownership marker as the API shows it."""

from __future__ import annotations

from typing import Any

from pulumi.dynamic import ConfigureRequest, ResourceProvider

from components.dynamic import host
from components.dynamic.ownership import stack_of

from . import cluster
from .catalog import OWNER_ANNOTATION

# In the provider process: our errors without tracebacks, and an exit once the engine is gone.
host.attach()


class KubeProvider(ResourceProvider):
    """Holds no state: the kubeconfig is read per call (cluster.py), never pickled with the provider."""

    def configure(self, req: ConfigureRequest) -> None:
        cluster.remember_stack_config(req.config)


def owner_of(obj: dict[str, Any]) -> str | None:
    value = (obj.get("metadata", {}).get("annotations") or {}).get(OWNER_ANNOTATION)
    return str(value) if value else None


def describe_owner(owner: str | None) -> str:
    if owner is None:
        return "was not made by a songgen-studio stack"
    return f"belongs to the stack {stack_of(owner)!r} ({owner})"
