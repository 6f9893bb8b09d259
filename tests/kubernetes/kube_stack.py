"""What the real-engine tests of the Kubernetes platform share: a sandbox-kubernetes stack against the session's
local cluster, each in a namespace and on a static volume of its own, and views of the cluster's objects."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from components.catalog import ModelId, cache_size_needed_gb
from components.kubernetes.catalog import OWNER_ANNOTATION
from lifecycle.kube_cluster import LocalCluster
from lifecycle.workspace import SCRATCH_PASSPHRASE, engine_env, open_stack, project_copy

ROOT = Path(__file__).resolve().parents[2]
STACK_FILE = (ROOT / "Pulumi.sandbox-kubernetes.yaml").read_text()
IMAGE = "registry.example/songgen-studio:sandbox"
CLAIM_SIZE = f"{cache_size_needed_gb([ModelId.BASE])}Gi"


@dataclass
class KubeStack:
    stack: auto.Stack
    namespace: str
    cluster: LocalCluster

    def configure(self, **values: str) -> None:
        for key, value in values.items():
            self.stack.set_config(f"songgen-studio:{key}", auto.ConfigValue(value))

    def get(self, path: str) -> dict[str, Any] | None:
        return self.cluster.api.get(path.format(ns=self.namespace))

    def items(self, path: str) -> list[dict[str, Any]]:
        return self.cluster.api.items(path.format(ns=self.namespace))

    def owner(self) -> str:
        return f"organization/songgen-studio/{self.stack.name}"


StackMaker = Callable[..., KubeStack]


@pytest.fixture
def make_kube_stack(tmp_path: Path, kube_cluster: LocalCluster) -> Iterator[StackMaker]:
    """Opens sandbox-kubernetes-like stacks; each is destroyed and removed afterwards, with its volume."""
    made: list[KubeStack] = []
    volumes: list[str] = []

    def make(
        name: str = "sandbox-kubernetes", *, namespace: str | None = None, volume: bool = True
    ) -> KubeStack:
        project = project_copy(tmp_path / "project", stack_files={name: STACK_FILE})
        env = engine_env(
            tmp_path / "state", SCRATCH_PASSPHRASE, {"KUBECONFIG": str(kube_cluster.kubeconfig_path)}
        )
        stack = open_stack(project, name, env)
        ns = namespace or f"studio-{secrets.token_hex(4)}"
        made.append(KubeStack(stack, ns, kube_cluster))
        made[-1].configure(namespace=ns)
        if volume:
            volumes.append(f"pv-{ns}-{len(volumes)}")
            kube_cluster.add_persistent_volume(volumes[-1], CLAIM_SIZE)
        return made[-1]

    yield make
    for kube_stack in reversed(made):
        try:
            kube_stack.stack.destroy(color="never")
        finally:
            kube_stack.stack.workspace.remove_stack(kube_stack.stack.name, force=True)
    for volume in volumes:
        kube_cluster.remove_persistent_volume(volume)


def owned_objects(cluster: LocalCluster, owner: str) -> list[str]:
    """Every namespace and namespaced object (of the kinds a stack makes) carrying `owner`."""
    api = cluster.api
    paths = [
        "/api/v1/namespaces",
        "/api/v1/persistentvolumeclaims",
        "/api/v1/services",
        "/api/v1/serviceaccounts",
        "/api/v1/secrets",
        "/apis/apps/v1/deployments",
        "/apis/rbac.authorization.k8s.io/v1/roles",
        "/apis/rbac.authorization.k8s.io/v1/rolebindings",
    ]
    return [
        f"{path.rsplit('/', 1)[1]}/{obj['metadata']['name']}"
        for path in paths
        for obj in api.items(path)
        if (obj["metadata"].get("annotations") or {}).get(OWNER_ANNOTATION) == owner
    ]


def output_of(err: pytest.ExceptionInfo[auto.CommandError]) -> str:
    return " ".join(str(err.value).split())


def changes(preview: auto.PreviewResult) -> dict[str, int]:
    return {str(op): n for op, n in preview.change_summary.items() if op != auto.OpType.SAME and n}
