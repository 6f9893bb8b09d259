"""The Kubernetes platform under the real engine against a real control plane (kwok plays the GPU node).

What every platform promises, proved here: up until the claim is bound and the Studio's pod runs, quiet
previews, an image change in place, the Studio's own scale to zero is not drift, clear errors in bounded
time, a copied stack refused before any write, protected data, nothing of the stack left after destroy.
"""

from __future__ import annotations

import gzip
import ssl
import time
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
import yaml
from pulumi import automation as auto

from lifecycle.kube_cluster import GPU_NODE, GPU_RESOURCE
from tests.docker.conftest import Boot
from tests.kubernetes.kube_stack import (
    KubeStack,
    StackMaker,
    changes,
    make_kube_stack,
    output_of,
    owned_objects,
)

__all__ = ["make_kube_stack"]

pytestmark = pytest.mark.engine

DEPLOYMENT = "/apis/apps/v1/namespaces/{ns}/deployments/studio"
CLAIM = "/api/v1/namespaces/{ns}/persistentvolumeclaims/studio-data"
PODS = "/api/v1/namespaces/{ns}/pods"
HF_TOKEN = "hf_" + "k" * 30


def test_up_binds_the_claim_runs_the_studio_on_the_gpu_node_and_nothing_changes_after(
    make_kube_stack: StackMaker,
) -> None:
    studio = make_kube_stack()
    studio.stack.set_config("songgen-studio:hfToken", auto.ConfigValue(HF_TOKEN, secret=True))
    outputs = studio.stack.up(color="never").outputs

    claim = studio.get(CLAIM)
    assert claim is not None
    assert claim["status"]["phase"] == "Bound"
    deployment = studio.get(DEPLOYMENT)
    assert deployment is not None
    assert deployment["status"]["availableReplicas"] == 1
    (pod,) = studio.items(PODS)
    assert (pod["spec"]["nodeName"], pod["status"]["phase"]) == (GPU_NODE, "Running")
    container = pod["spec"]["containers"][0]
    assert container["resources"]["limits"][GPU_RESOURCE] == "1"
    assert {
        "name": "HF_TOKEN",
        "valueFrom": {"secretKeyRef": {"name": "studio-hf-token", "key": "HF_TOKEN"}},
    } in (container["env"])
    assert outputs["runs"].value[0]["state"] == "running"
    assert outputs["stores"].value[0]["volume"].startswith("pv-")

    assert changes(studio.stack.preview(color="never")) == {}
    again = studio.stack.up(color="never")
    assert set(again.summary.resource_changes or {}) == {"same"}

    state = stored_state(studio)
    assert HF_TOKEN not in state
    assert admin_token(studio) not in state

    studio.stack.destroy(color="never")
    assert studio.get("/api/v1/namespaces/{ns}") is None
    assert owned_objects(studio.cluster, studio.owner()) == []


def test_an_image_change_rolls_out_in_place_on_the_same_deployment_and_claim(
    make_kube_stack: StackMaker,
) -> None:
    studio = make_kube_stack()
    studio.stack.up(color="never")
    before = (studio.get(DEPLOYMENT) or {})["metadata"]["uid"], (studio.get(CLAIM) or {})["metadata"]["uid"]

    studio.configure(image="registry.example/songgen-studio:v2")
    result = studio.stack.up(color="never")
    assert (result.summary.resource_changes or {}).get(
        auto.OpType.UPDATE
    ) == 2  # the Deployment and the rollout watch
    deployment = studio.get(DEPLOYMENT) or {}
    assert (deployment["metadata"]["uid"], (studio.get(CLAIM) or {})["metadata"]["uid"]) == before
    running = [p for p in studio.items(PODS) if not p["metadata"].get("deletionTimestamp")]
    assert [p["spec"]["containers"][0]["image"] for p in running] == ["registry.example/songgen-studio:v2"]
    assert deployment["status"]["availableReplicas"] == 1


def test_the_studio_scaling_itself_to_zero_is_not_drift_and_a_new_image_leaves_it_asleep(
    make_kube_stack: StackMaker,
) -> None:
    studio = make_kube_stack()
    studio.stack.up(color="never")
    api = studio.cluster.api
    # What the entrypoint does when idle, with the pod's own service-account token.
    token = api.create(
        f"/api/v1/namespaces/{studio.namespace}/serviceaccounts/studio/token",
        {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}},
    )["status"]["token"]
    kube = Boot().kube
    account = studio.cluster.directory / "studio-account"
    account.mkdir()
    (account / "token").write_text(token)
    (account / "ca.crt").write_bytes((studio.cluster.directory / "apiserver" / "apiserver.crt").read_bytes())
    host, port = api.server.removeprefix("https://").split(":")
    target = kube.ScaleTarget(
        host, int(port), studio.namespace, "studio", account / "token", account / "ca.crt"
    )
    outcome = kube.scale_to_zero(target, 10)
    assert outcome.ok, outcome.message
    # The Role allows exactly that: not a patch of the Deployment itself, nor another Deployment's scale.
    with httpx.Client(
        verify=ssl.create_default_context(cafile=account / "ca.crt"),
        headers={"Authorization": f"Bearer {token}"},
    ) as pod:
        path = f"{api.server}/apis/apps/v1/namespaces/{studio.namespace}/deployments"
        merge = {"Content-Type": "application/merge-patch+json"}
        assert (
            pod.patch(f"{path}/studio", content=b'{"spec":{"replicas":1}}', headers=merge).status_code == 403
        )
        assert (
            pod.patch(f"{path}/other/scale", content=b'{"spec":{"replicas":0}}', headers=merge).status_code
            == 403
        )
    api.wait_for("the Studio's pod to go", lambda: studio.items(PODS) == [], timeout=60)

    assert changes(studio.stack.preview(color="never")) == {}
    studio.stack.refresh(color="never")
    assert changes(studio.stack.preview(color="never")) == {}

    studio.configure(image="registry.example/songgen-studio:v2")
    lines: list[str] = []
    studio.stack.up(color="never", on_output=lines.append)
    deployment = studio.get(DEPLOYMENT) or {}
    assert deployment["spec"]["replicas"] == 0
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":v2")
    assert "rests at zero replicas" in "".join(lines)

    # Waking is one command: kubectl scale ... --replicas=1 (the same scale subresource).
    api_client = httpx.Client(
        verify=ssl.create_default_context(cafile=account / "ca.crt"),
        headers={"Authorization": f"Bearer {admin_token(studio)}"},
    )
    with api_client:
        woke = api_client.patch(
            f"{api.server}/apis/apps/v1/namespaces/{studio.namespace}/deployments/studio/scale",
            content=b'{"spec":{"replicas":1}}',
            headers={"Content-Type": "application/merge-patch+json"},
        )
    assert woke.status_code == 200
    api.wait_for("the woken Studio's pod", lambda: len(studio.items(PODS)) == 1, timeout=60)
    assert changes(studio.stack.preview(color="never", refresh=True)) == {}


def stored_state(studio: KubeStack) -> str:
    """Every file of the stack's state backend, as stored (export_stack would decrypt the secrets)."""
    backend = Path(urlparse(studio.stack.workspace.env_vars["PULUMI_BACKEND_URL"]).path)
    texts = []
    for path in backend.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            texts.append((gzip.decompress(data) if path.suffix == ".gz" else data).decode(errors="replace"))
    assert texts
    return "\n".join(texts)


def admin_token(studio: KubeStack) -> str:
    """What kubectl would send: the admin user of the local cluster's kubeconfig."""
    config = yaml.safe_load(studio.cluster.kubeconfig_text)
    return str(config["users"][0]["user"]["token"])


def test_a_gpu_resource_no_node_offers_fails_with_the_reason_in_bounded_time(
    make_kube_stack: StackMaker,
) -> None:
    studio = make_kube_stack()
    studio.configure(gpuResource="example.com/gpu")
    started = time.monotonic()
    with pytest.raises(auto.CommandError) as caught:
        studio.stack.up(color="never")
    elapsed = time.monotonic() - started
    message = output_of(caught)
    assert "the Studio's pod stays Pending: no node of this cluster offers example.com/gpu" in message
    assert "Insufficient example.com/gpu" in message
    assert "Traceback" not in message
    assert elapsed < 120


def test_a_storage_class_the_cluster_lacks_fails_with_the_reason(make_kube_stack: StackMaker) -> None:
    studio = make_kube_stack(volume=False)
    studio.configure(storageClass="fast-ssd")
    with pytest.raises(auto.CommandError) as caught:
        studio.stack.up(color="never")
    message = output_of(caught)
    assert "asks for the storage class 'fast-ssd', which this cluster does not have" in message
    assert "Traceback" not in message


def test_a_stack_copying_anothers_namespace_is_refused_before_any_write(make_kube_stack: StackMaker) -> None:
    first = make_kube_stack("sandbox-kubernetes")
    first.stack.up(color="never")
    before = snapshot(first)
    copy = make_kube_stack("staging", namespace=first.namespace, volume=False)

    with pytest.raises(auto.CommandError) as caught:
        copy.stack.preview(color="never")
    message = output_of(caught)
    assert (
        f"songgen-studio:namespace: the namespace {first.namespace} already exists and belongs to the stack "
        "'sandbox-kubernetes'" in message
    )
    assert "pulumi config set namespace <name>" in message
    with pytest.raises(auto.CommandError):
        copy.stack.up(color="never")
    assert snapshot(first) == before
    copy.stack.destroy(color="never")  # it made nothing, so it removes nothing
    assert snapshot(first) == before


def snapshot(studio: KubeStack) -> dict[str, str]:
    """name -> resourceVersion of the namespace and everything in it: any write changes it."""
    found = {"namespace": (studio.get("/api/v1/namespaces/{ns}") or {})["metadata"]["resourceVersion"]}
    for path in (
        "/api/v1/namespaces/{ns}/persistentvolumeclaims",
        "/api/v1/namespaces/{ns}/services",
        "/api/v1/namespaces/{ns}/serviceaccounts",
        "/apis/apps/v1/namespaces/{ns}/deployments",
        "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles",
        "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings",
    ):
        for obj in studio.items(path):
            found[f"{path}/{obj['metadata']['name']}"] = obj["metadata"]["resourceVersion"]
    return found


def test_a_protected_stack_refuses_to_lose_its_claim_before_any_write(make_kube_stack: StackMaker) -> None:
    studio = make_kube_stack()
    studio.configure(protectData="true")
    studio.stack.up(color="never")
    before = snapshot(studio)
    studio.configure(namespace=f"{studio.namespace}-moved")
    with pytest.raises(auto.CommandError) as caught:
        studio.stack.up(color="never")
    message = output_of(caught)
    assert "songgen-studio:protectData:" in message
    assert f"claim studio-data in namespace {studio.namespace}" in message
    assert "pulumi config set protectData false" in message
    assert snapshot(studio) == before
    assert studio.get("/api/v1/namespaces/{ns}-moved") is None
    studio.configure(namespace=studio.namespace, protectData="false")
