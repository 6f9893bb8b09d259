"""The Kubernetes sandbox's stand-in: a local control plane with a fake GPU node and one static volume.

A real kube-apiserver, controller-manager and scheduler on 127.0.0.1 (lifecycle.kube_cluster), kwok playing
the GPU node's kubelet (pods are marked Running; no container runs, nothing is pulled), and a hostPath
PersistentVolume in the stack's storage class, big enough for the claim. The stack reaches it through
KUBECONFIG, like a real cluster after `gcloud container clusters get-credentials`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from components.catalog import ModelId, cache_size_needed_gb
from components.kubernetes.catalog import OWNER_ANNOTATION
from lifecycle.kube_cluster import GPU_NODE, GPU_RESOURCE, LocalCluster
from lifecycle.stand_ins import StandIn

STACK = "sandbox-kubernetes"
VOLUME = "sandbox-studio-data"


def stack_objects(cluster: LocalCluster) -> list[str]:
    """Namespaces and claims carrying a songgen-studio owner id, and volumes still bound to such a claim."""
    api = cluster.api
    found = [
        f"namespace/{ns['metadata']['name']}"
        for ns in api.items("/api/v1/namespaces")
        if OWNER_ANNOTATION in (ns["metadata"].get("annotations") or {})
    ]
    found += [
        f"persistentvolumeclaim/{pvc['metadata']['namespace']}/{pvc['metadata']['name']}"
        for pvc in api.items("/api/v1/persistentvolumeclaims")
        if OWNER_ANNOTATION in (pvc["metadata"].get("annotations") or {})
    ]
    found += [
        f"persistentvolume/{pv['metadata']['name']} (bound)"
        for pv in api.items("/api/v1/persistentvolumes")
        if pv.get("status", {}).get("phase") == "Bound"
    ]
    return found


@contextmanager
def kubernetes_stand_in() -> Iterator[StandIn]:
    with LocalCluster() as cluster:
        # The default model's cache, rounded up: what the stack's claim asks for.
        cluster.add_persistent_volume(VOLUME, f"{cache_size_needed_gb([ModelId.BASE])}Gi")
        yield StandIn(
            stack=STACK,
            env={"KUBECONFIG": str(cluster.kubeconfig_path)},
            banner=[
                f"started a LOCAL Kubernetes control plane at {cluster.api.server} in "
                f"{cluster.startup_seconds:.1f} s: node {GPU_NODE} offers 1 {GPU_RESOURCE} (kwok: pods are "
                "marked Running, no container runs, no image is pulled), a static volume "
                f"{VOLUME}. Nothing here talks to a cloud; nothing is billed."
            ],
            billable=lambda: stack_objects(cluster),
            nothing_left="no namespace, claim or bound volume of the stack",
        )
