"""The Kubernetes platform's edges under the real engine: an unreachable cluster, the KEDA HTTP add-on's
objects against the add-on's own CRD schema, and pulumi-kubernetes never creating over an existing object.

What the KEDA test exercises: the API server validating the stack's HTTPScaledObject against the add-on's CRD
(v0.15.0, vendored in crds/: structural schema, pruning of unknown fields, its CEL rule). What it does not: the
KEDA operator and the interceptor (not installed here), so no request ever wakes the Studio in these tests.
"""

from __future__ import annotations

import secrets
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pulumi import automation as auto

from lifecycle.kube_api import KubeApiError
from lifecycle.kube_cluster import LocalCluster
from lifecycle.workspace import SCRATCH_PASSPHRASE, engine_env, open_stack, python_program
from tests.kubernetes.kube_stack import StackMaker, make_kube_stack, output_of

__all__ = ["make_kube_stack"]

pytestmark = pytest.mark.engine

CRD = Path(__file__).parent / "crds" / "http.keda.sh_httpscaledobjects.yaml"
CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port on 127.0.0.1 that accepts connections and never answers (a hung API server)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


def test_a_kubeconfig_whose_cluster_never_answers_fails_the_preview_in_bounded_time(
    make_kube_stack: StackMaker, silent_server: int
) -> None:
    studio = make_kube_stack(volume=False)
    hung = yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": "hung",
            "clusters": [{"name": "hung", "cluster": {"server": f"https://127.0.0.1:{silent_server}"}}],
            "contexts": [{"name": "hung", "context": {"cluster": "hung", "user": "me"}}],
            "users": [{"name": "me", "user": {"token": "never-sent-anywhere-else"}}],
        }
    )
    studio.stack.set_config("songgen-studio:kubeconfig", auto.ConfigValue(hung, secret=True))
    started = time.monotonic()
    with pytest.raises(auto.CommandError) as caught:
        studio.stack.preview(color="never")
    elapsed = time.monotonic() - started
    message = output_of(caught)
    assert f"the cluster's API server at https://127.0.0.1:{silent_server} (context 'hung'" in message
    assert "did not answer within 10 s" in message
    assert "kubectl --context hung get --raw /version" in message
    assert "Traceback" not in message
    assert elapsed < 90
    studio.stack.remove_config("songgen-studio:kubeconfig")


@pytest.fixture(scope="module")
def keda_crd(kube_cluster: LocalCluster) -> str:
    """The add-on's CRD, installed once; the API server validates every HTTPScaledObject against it."""
    crd: dict[str, Any] = yaml.safe_load(CRD.read_text())
    name: str = crd["metadata"]["name"]
    if kube_cluster.api.get(f"{CRDS}/{name}") is None:
        kube_cluster.api.create(CRDS, crd)

    def established() -> bool:
        found = kube_cluster.api.get(f"{CRDS}/{name}") or {}
        return any(
            c["type"] == "Established" and c["status"] == "True"
            for c in (found.get("status") or {}).get("conditions") or []
        )

    kube_cluster.api.wait_for("the HTTPScaledObject CRD to be established", established)
    return name


def test_the_keda_objects_pass_the_add_ons_own_schema_unpruned_and_the_ingress_routes_through_the_interceptor(
    make_kube_stack: StackMaker, keda_crd: str
) -> None:
    studio = make_kube_stack()
    studio.configure(kedaHttpAddOn="true", ingressHost="studio.example.test")
    studio.stack.up(color="never")
    stored = studio.get("/apis/http.keda.sh/v1alpha1/namespaces/{ns}/httpscaledobjects/studio")
    assert stored is not None
    assert stored["spec"] == {
        "hosts": ["studio.example.test"],
        "scaleTargetRef": {
            "name": "studio",
            "kind": "Deployment",
            "apiVersion": "apps/v1",
            "service": "studio",
            "port": 80,
        },
        "replicas": {"min": 0, "max": 1},
        "scaledownPeriod": 7 * 24 * 3600,
        "timeouts": {"conditionWait": "10m"},
    }
    ingress = studio.get("/apis/networking.k8s.io/v1/namespaces/{ns}/ingresses/studio") or {}
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "studio-wake", "port": {"number": 8080}}
    wake = studio.get("/api/v1/namespaces/{ns}/services/studio-wake") or {}
    assert wake["spec"]["externalName"] == "keda-add-ons-http-interceptor-proxy.keda.svc.cluster.local"

    # The schema is enforced, so the pass above means something: its CEL rule refuses a target without a port.
    broken = {
        "apiVersion": "http.keda.sh/v1alpha1",
        "kind": "HTTPScaledObject",
        "metadata": {"name": "broken"},
        "spec": {"hosts": ["x.example.test"], "scaleTargetRef": {"name": "studio", "service": "studio"}},
    }
    with pytest.raises(KubeApiError, match="must define either the 'portName' or the 'port'"):
        studio.cluster.api.create(
            f"/apis/http.keda.sh/v1alpha1/namespaces/{studio.namespace}/httpscaledobjects", broken
        )


PROGRAM = """\
import pulumi
import pulumi_kubernetes as k8s

config = pulumi.Config()
provider = k8s.Provider("local", kubeconfig=config.require("kubeconfig"))
k8s.core.v1.ConfigMap(
    "notes",
    metadata={"namespace": config.require("namespace"), "name": "notes"},
    data={"written-by": "pulumi"},
    opts=pulumi.ResourceOptions(provider=provider),
)
"""


def test_pulumi_kubernetes_alone_would_take_over_an_object_it_did_not_make_so_the_preflight_refuses_first(
    tmp_path: Path, kube_cluster: LocalCluster, make_kube_stack: StackMaker
) -> None:
    """With server-side apply (pulumi-kubernetes 4.x's default), a create is an apply: an object of the same
    name is refused only when a field conflicts with another manager's, and otherwise taken over silently."""
    api = kube_cluster.api
    namespace = f"shared-{secrets.token_hex(4)}"
    api.create(
        "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
    )
    try:
        api.create(
            f"/api/v1/namespaces/{namespace}/configmaps",
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "notes"},
                "data": {"note": "a person's"},
            },
        )
        project = python_program(tmp_path / "program", "adopt-probe", PROGRAM)
        probe = open_stack(project, "probe", engine_env(tmp_path / "state", SCRATCH_PASSPHRASE))
        probe.set_config("adopt-probe:kubeconfig", auto.ConfigValue(str(kube_cluster.kubeconfig_path)))
        probe.set_config("adopt-probe:namespace", auto.ConfigValue(namespace))
        try:
            probe.up(color="never")  # no error: the person's ConfigMap is now also Pulumi's
            taken = api.get(f"/api/v1/namespaces/{namespace}/configmaps/notes") or {}
            assert taken["data"] == {"note": "a person's", "written-by": "pulumi"}
        finally:
            probe.workspace.remove_stack("probe", force=True)  # without destroy: the object is not Pulumi's

        # The Studio's stack, told to share that namespace, meets an object of its name it did not make.
        api.create(
            f"/api/v1/namespaces/{namespace}/serviceaccounts",
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "studio"}},
        )
        studio = make_kube_stack(namespace=namespace, volume=False)
        studio.configure(createNamespace="false")
        before = api.get(f"/api/v1/namespaces/{namespace}/serviceaccounts/studio") or {}
        with pytest.raises(auto.CommandError) as caught:
            studio.stack.up(color="never")
        message = output_of(caught)
        assert (
            f"songgen-studio:name: the serviceaccount {namespace}/studio already exists and was not made by a "
            "songgen-studio stack" in message
        )
        assert "pulumi config set name <name>" in message
        after = api.get(f"/api/v1/namespaces/{namespace}/serviceaccounts/studio") or {}
        assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
        assert api.items(f"/apis/apps/v1/namespaces/{namespace}/deployments") == []
        assert api.items(f"/api/v1/namespaces/{namespace}/persistentvolumeclaims") == []
    finally:
        api.delete(f"/api/v1/namespaces/{namespace}")
