"""The local control plane: ready with a GPU node, volumes that bind, nodes that come and go, a clean stop."""

from __future__ import annotations

import re
import stat
from contextlib import closing
from pathlib import Path

import pytest
import yaml

from lifecycle.kube_api import KubeApi
from lifecycle.kube_cluster import (
    BINARIES,
    GPU_NODE,
    GPU_NODE_LABELS,
    GPU_RESOURCE,
    GPU_TAINT,
    ClusterError,
    LocalCluster,
    find_binaries,
)


def test_the_cluster_is_ready_with_one_tainted_gpu_node(kube_cluster: LocalCluster) -> None:
    node = kube_cluster.api.get(f"/api/v1/nodes/{GPU_NODE}")
    assert node is not None
    ready = [c for c in node["status"]["conditions"] if c["type"] == "Ready"]
    assert [c["status"] for c in ready] == ["True"]
    assert node["status"]["allocatable"][GPU_RESOURCE] == "1"
    assert {"cpu", "memory", "pods"} <= node["status"]["allocatable"].keys()
    assert GPU_NODE_LABELS.items() <= node["metadata"]["labels"].items()
    assert node["spec"]["taints"] == [GPU_TAINT]


def test_the_api_server_reports_a_release_version(kube_cluster: LocalCluster) -> None:
    # Clients such as the Pulumi provider pick behaviour by it; an unstamped build says v0.0.0-master.
    version = kube_cluster.api.get("/version")
    assert version is not None
    assert re.fullmatch(r"v1\.\d+\.\d+", version["gitVersion"]), version["gitVersion"]


def test_the_kubeconfig_authenticates_by_token_over_verified_tls(kube_cluster: LocalCluster) -> None:
    config = yaml.safe_load(kube_cluster.kubeconfig_text)
    (user,) = config["users"]
    assert set(user["user"]) == {"token"}
    (cluster,) = config["clusters"]
    assert cluster["cluster"]["server"].startswith("https://127.0.0.1:")
    assert "insecure-skip-tls-verify" not in cluster["cluster"]
    assert stat.S_IMODE(kube_cluster.kubeconfig_path.stat().st_mode) == 0o600
    # The token in it is an admin's: it may list nodes, and a wrong one may not.
    ca_file = kube_cluster.directory / "apiserver" / "apiserver.crt"
    server = cluster["cluster"]["server"]
    with closing(KubeApi(server, user["user"]["token"], ca_file)) as admin:
        assert admin.items("/api/v1/nodes")
    with closing(KubeApi(server, "not-a-token", ca_file)) as stranger:
        assert not stranger.healthy("/api/v1/nodes")


def test_a_claim_binds_to_a_static_volume_of_its_class(kube_cluster: LocalCluster) -> None:
    api = kube_cluster.api
    kube_cluster.add_persistent_volume("pv-binds", "2Gi")
    claims = "/api/v1/namespaces/default/persistentvolumeclaims"
    api.create(
        claims,
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "claim-binds"},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": "local-static",
                "resources": {"requests": {"storage": "1Gi"}},
            },
        },
    )
    try:
        api.wait_for(
            "the claim to bind",
            lambda: (api.get(f"{claims}/claim-binds") or {}).get("status", {}).get("phase") == "Bound",
        )
        assert api.get("/api/v1/persistentvolumes/pv-binds")["spec"]["claimRef"]["name"] == "claim-binds"  # type: ignore[index]
    finally:
        api.delete(f"{claims}/claim-binds")
        kube_cluster.remove_persistent_volume("pv-binds")


def test_nodes_can_be_added_and_removed(kube_cluster: LocalCluster) -> None:
    kube_cluster.add_node("cpu-node-1", cpu="4", memory="8Gi")
    node = kube_cluster.api.get("/api/v1/nodes/cpu-node-1")
    assert node is not None
    assert GPU_RESOURCE not in node["status"]["allocatable"]
    assert not node["spec"].get("taints")
    kube_cluster.remove_node("cpu-node-1")
    assert kube_cluster.api.get("/api/v1/nodes/cpu-node-1") is None
    assert kube_cluster.api.get(f"/api/v1/nodes/{GPU_NODE}") is not None


def test_every_process_and_file_is_gone_after_the_cluster_stops() -> None:
    with LocalCluster() as cluster:
        processes = cluster.processes
        directory = cluster.directory
        assert sorted(processes) == sorted(BINARIES)
        assert all(p.running for p in processes.values())
    assert all(p.group_is_empty() for p in processes.values())
    assert not any(Path(f"/proc/{p.pid}").exists() for p in processes.values())
    assert not directory.exists()


def test_a_component_that_fails_to_start_is_named_with_its_log(tmp_path: Path) -> None:
    # Real binaries for everything but etcd, which is a script that complains and exits.
    for name, real in find_binaries().items():
        (tmp_path / name).symlink_to(real)
    (tmp_path / "etcd").unlink()
    (tmp_path / "etcd").write_text("#!/bin/sh\necho 'etcd: cannot open the data dir' >&2\nexit 3\n")
    (tmp_path / "etcd").chmod(0o755)
    cluster = LocalCluster(search_path=str(tmp_path), wait_timeout=20)
    with pytest.raises(ClusterError) as caught:
        cluster.start()
    message = str(caught.value)
    assert "etcd exited with code 3" in message
    assert "etcd: cannot open the data dir" in message
    assert not cluster.directory.exists()
