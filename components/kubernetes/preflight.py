"""Before any write, in every preview and up: the cluster answers, nothing of the same name belongs to
someone else, and where the GPU will come from.

`check()` runs before the engine plans any change to the objects (they all wait for this resource), so:
- a kubeconfig that cannot reach its cluster fails the preview in bounded time, with the server and context;
- an object (or the namespace) that already exists without this stack's owner id is never adopted: the
  preview stops with one line naming the setting to change. pulumi-kubernetes would refuse the create too
  (it never creates over an existing object), but only once the first objects were already written;
- no node offering the GPU resource right now is said as a warning: a node pool that scales from zero
  (GKE, EKS with Karpenter or the cluster autoscaler) has none until the Studio's pod asks.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, UpdateResult

from components.dynamic import progress
from components.dynamic.errors import ProviderError
from components.settings import PROJECT

from .cluster import Cluster, cluster
from .provider import KubeProvider, describe_owner, owner_of

INPUTS = ("context", "namespace", "create_namespace", "owner", "objects", "gpu_resource")


def refusal(key: str, what: str, owner: str | None, fix: str) -> ProviderError:
    return ProviderError(
        f"{PROJECT}:{key}: {what} already exists and {describe_owner(owner)}; this stack adopts only what "
        f"carries its own owner id, so nothing was changed. {fix}"
    )


def check_ownership(api: Cluster, inputs: dict[str, Any]) -> None:
    namespace, owner = inputs["namespace"], inputs["owner"]
    found = api.get(f"/api/v1/namespaces/{namespace}")
    if inputs["create_namespace"]:
        if found is not None and owner_of(found) != owner:
            raise refusal(
                "namespace",
                f"the namespace {namespace}",
                owner_of(found),
                "Give this stack a namespace of its own: pulumi config set namespace <name>, or deploy into "
                "that namespace without owning it: pulumi config set createNamespace false and a name of its "
                "own (pulumi config set name <name>)",
            )
        if found is None:
            return
    elif found is None:
        raise ProviderError(
            f"{PROJECT}:namespace: the namespace {namespace} does not exist, and createNamespace is false. "
            f"Create it (kubectl create namespace {namespace}) or let the stack own it: "
            "pulumi config set createNamespace true"
        )
    for collection, names in sorted(inputs["objects"].items()):
        group, _, plural = collection.rpartition("/")
        for name in names:
            obj = api.get(f"/{group}/namespaces/{namespace}/{plural}/{name}")
            if obj is not None and owner_of(obj) != owner:
                raise refusal(
                    "name",
                    f"the {plural[:-1]} {namespace}/{name}",
                    owner_of(obj),
                    "Give this stack's objects other names: pulumi config set name <name> (or another "
                    "namespace: pulumi config set namespace <name>)",
                )


def nodes_offering(api: Cluster, resource: str) -> int | None:
    """Nodes that advertise `resource`; None when these credentials may not list nodes."""
    if not api.may("/api/v1/nodes"):
        return None
    return sum(
        1
        for node in api.items("/api/v1/nodes")
        if str((node.get("status", {}).get("allocatable") or {}).get(resource, "0")) not in ("0", "")
    )


class PreflightProvider(KubeProvider):
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs = {key: news.get(key) for key in INPUTS}
        with cluster(inputs["context"]) as api:
            api.get("/version")
            check_ownership(api, inputs)
            offering = nodes_offering(api, str(inputs["gpu_resource"]))
        if offering == 0:
            progress.warn(
                f"no node of this cluster offers {inputs['gpu_resource']} right now. That is expected when a GPU "
                "node pool scales from zero (the autoscaler adds a node when the Studio's pod asks); otherwise "
                "the pod would stay Pending, and up stops with the reason"
            )
        return CheckResult(inputs, [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [key for key in INPUTS if olds.get(key) != news.get(key)]
        return DiffResult(changes=bool(changed), replaces=[], stables=None, delete_before_replace=None)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult("preflight", dict(props))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(dict(news))


class Preflight(pulumi.dynamic.Resource, module="kubernetes", name="Preflight"):
    def __init__(
        self,
        resource_name: str,
        *,
        context: str | None,
        namespace: str,
        create_namespace: bool,
        owner: str,
        objects: dict[str, list[str]],
        gpu_resource: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "context": context,
            "namespace": namespace,
            "create_namespace": create_namespace,
            "owner": owner,
            "objects": objects,
            "gpu_resource": gpu_resource,
        }
        super().__init__(PreflightProvider(), resource_name, props, opts)
