"""pulumi-kubernetes under the real engine against the local cluster: up, a quiet preview, an update, destroy."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest
from pulumi import automation as auto

from lifecycle.kube_cluster import GPU_NODE, GPU_RESOURCE, STORAGE_CLASS, LocalCluster
from lifecycle.workspace import SCRATCH_PASSPHRASE, engine_env, open_stack, python_program

pytestmark = pytest.mark.engine

# One GPU workload in the shape the Studio takes: its namespace, a claim for songs, a Deployment asking
# for one GPU (tolerating the GPU pool's taint) and a Service in front of it.
PROGRAM = """\
import pulumi
import pulumi_kubernetes as k8s

config = pulumi.Config()
provider = k8s.Provider("local", kubeconfig=config.require("kubeconfig"))
opts = pulumi.ResourceOptions(provider=provider)
labels = {"app": "studio"}

namespace = k8s.core.v1.Namespace("studio", metadata={"name": config.require("namespace")}, opts=opts)
ns = namespace.metadata.name
songs = k8s.core.v1.PersistentVolumeClaim(
    "songs",
    metadata={"namespace": ns, "name": "songs"},
    spec={
        "access_modes": ["ReadWriteOnce"],
        "storage_class_name": config.require("storage_class"),
        "resources": {"requests": {"storage": "1Gi"}},
    },
    opts=opts,
)
studio = k8s.apps.v1.Deployment(
    "studio",
    metadata={"namespace": ns, "name": "studio"},
    spec={
        "replicas": 1,
        # One GPU, one read-write-once volume: the old pod must go before the new one can start.
        "strategy": {"type": "Recreate"},
        "selector": {"match_labels": labels},
        "template": {
            "metadata": {"labels": labels},
            "spec": {
                "containers": [{
                    "name": "studio",
                    "image": config.require("image"),
                    "ports": [{"container_port": 7860}],
                    "resources": {"limits": {"nvidia.com/gpu": "1"}},
                    "volume_mounts": [{"name": "songs", "mount_path": "/data"}],
                }],
                "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
                "volumes": [{"name": "songs", "persistent_volume_claim": {"claim_name": songs.metadata.name}}],
            },
        },
    },
    opts=opts,
)
service = k8s.core.v1.Service(
    "studio",
    metadata={"namespace": ns, "name": "studio"},
    spec={"selector": labels, "ports": [{"port": 80, "target_port": 7860}]},
    opts=pulumi.ResourceOptions(provider=provider, depends_on=[studio]),
)
pulumi.export("available_replicas", studio.status.available_replicas)
pulumi.export("claim_phase", songs.status.phase)
"""


def engine_environment(tmp_path: Path) -> dict[str, str]:
    return engine_env(tmp_path / "state", SCRATCH_PASSPHRASE)


@pytest.fixture
def stack(tmp_path: Path, kube_cluster: LocalCluster) -> Iterator[auto.Stack]:
    project = python_program(tmp_path / "program", "k8s-probe", PROGRAM)
    opened = open_stack(project, "probe", engine_environment(tmp_path))
    namespace = f"studio-{secrets.token_hex(4)}"
    volume = f"songs-{namespace}"
    kube_cluster.add_persistent_volume(volume, "5Gi")
    for key, value in {
        "kubeconfig": str(kube_cluster.kubeconfig_path),
        "namespace": namespace,
        "storage_class": STORAGE_CLASS,
        "image": "ghcr.io/example/studio:1",
    }.items():
        opened.set_config(f"k8s-probe:{key}", auto.ConfigValue(value))
    yield opened
    opened.destroy(color="never")
    opened.workspace.remove_stack(opened.name, force=True)
    kube_cluster.remove_persistent_volume(volume)


def test_the_engine_finds_the_provider_plugin_the_sdk_asks_for(tmp_path: Path) -> None:
    listing = subprocess.run(
        ["pulumi", "plugin", "ls", "--json"],
        env={**os.environ, **engine_environment(tmp_path)},  # what the Automation API gives the engine
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    plugins = {(p["kind"], p["name"], p["version"].lstrip("v")) for p in json.loads(listing.stdout) or []}
    assert ("resource", "kubernetes", version("pulumi-kubernetes")) in plugins


def test_a_gpu_workload_goes_up_stays_quiet_updates_and_is_destroyed_leaving_nothing(
    stack: auto.Stack, kube_cluster: LocalCluster
) -> None:
    api = kube_cluster.api
    namespace = stack.get_config("k8s-probe:namespace").value
    deployment_path = f"/apis/apps/v1/namespaces/{namespace}/deployments/studio"

    outputs = stack.up(color="never").outputs
    assert outputs["available_replicas"].value == 1
    assert outputs["claim_phase"].value == "Bound"
    pods = api.items(f"/api/v1/namespaces/{namespace}/pods")
    assert [(p["spec"]["nodeName"], p["status"]["phase"]) for p in pods] == [(GPU_NODE, "Running")]
    assert pods[0]["spec"]["containers"][0]["resources"]["limits"][GPU_RESOURCE] == "1"
    assert api.get(f"/api/v1/namespaces/{namespace}/services/studio") is not None

    preview = stack.preview(color="never")
    assert set(preview.change_summary) == {"same"}

    stack.set_config("k8s-probe:image", auto.ConfigValue("ghcr.io/example/studio:2"))
    update = stack.up(color="never")
    assert update.summary.resource_changes == {"same": 5, "update": 1}
    deployment = api.get(deployment_path)
    assert deployment is not None
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "ghcr.io/example/studio:2"
    assert deployment["status"]["availableReplicas"] == 1

    stack.destroy(color="never")
    assert api.get(f"/api/v1/namespaces/{namespace}") is None
    assert (stack.export_stack().deployment or {}).get("resources", []) == []
