"""A Kubernetes stack's program under Pulumi's mocks: every object and the fields a platform engineer checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pulumi.runtime import rpc

from components.kubernetes.catalog import OWNER_ANNOTATION, OWNER_LABEL
from tests.unit.test_settings import stack_file
from tests.unit.test_studio_mocks import Program, _event_loop, run_program

__all__ = ["_event_loop"]

ROOT = Path(__file__).resolve().parents[2]
STACK = "sandbox-kubernetes"
OWNER_TAIL = f"/songgen-studio/{STACK}"
KUBECONFIG = """\
apiVersion: v1
kind: Config
current-context: lab
clusters: [{name: lab, cluster: {server: "https://127.0.0.1:6443"}}]
contexts: [{name: lab, context: {cluster: lab, user: me}}]
users: [{name: me, user: {token: mock-kube-token}}]
"""


@pytest.fixture
def kubeconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(KUBECONFIG)
    monkeypatch.setenv("KUBECONFIG", str(path))
    return path


def program_of(
    monkeypatch: pytest.MonkeyPatch, extra: dict[str, Any] | None = None, secret: frozenset[str] = frozenset()
) -> Program:
    raw, secrets = stack_file(ROOT, STACK)
    return run_program(STACK, {**raw, **(extra or {})}, {*secrets, *secret}, monkeypatch)


def kind(program: Program, typ: str) -> list[dict[str, Any]]:
    return [r.state for urn, r in program.resources.items() if f"${typ}::" in urn or f"::{typ}::" in urn]


def one(program: Program, typ: str) -> dict[str, Any]:
    (found,) = kind(program, typ)
    return found


def test_the_sandbox_stack_declares_each_object_once_under_the_component(
    kubeconfig: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    program = program_of(monkeypatch)
    kinds = sorted(urn.split("::")[2].rsplit("$", 1)[-1] for urn in program.resources)
    assert [k for k in kinds if k.startswith("kubernetes:")] == [
        "kubernetes:apps/v1:Deployment",
        "kubernetes:core/v1:Namespace",
        "kubernetes:core/v1:PersistentVolumeClaim",
        "kubernetes:core/v1:Service",
        "kubernetes:core/v1:ServiceAccount",
        "kubernetes:rbac.authorization.k8s.io/v1:Role",
        "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
    ]
    for urn in program.resources:
        if "$kubernetes:" in urn or "dynamic/kubernetes" in urn:
            assert "songgen:studio:SongGenStudio$" in urn, urn


def test_every_object_carries_the_owner_id_and_selectable_labels(
    kubeconfig: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    program = program_of(monkeypatch)
    for urn, registration in program.resources.items():
        if "::kubernetes:" in urn or "$kubernetes:" in urn:
            metadata = registration.state["metadata"]
            # Under mocks the organization is unset; the engine fills it in (organization/project/stack).
            assert metadata["annotations"][OWNER_ANNOTATION].endswith(OWNER_TAIL), urn
            assert metadata["labels"]["app.kubernetes.io/managed-by"] == "pulumi", urn
            assert OWNER_LABEL in metadata["labels"], urn


def test_the_deployment_recreates_runs_as_the_studio_user_with_one_gpu_probes_and_a_drain(
    kubeconfig: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployment = one(program_of(monkeypatch), "kubernetes:apps/v1:Deployment")
    spec = deployment["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "Recreate"}
    assert deployment["metadata"]["annotations"]["pulumi.com/skipAwait"] == "true"
    pod = spec["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert (pod["securityContext"]["runAsUser"], pod["securityContext"]["fsGroup"]) == (1000, 1000)
    assert pod["serviceAccountName"] == "studio"
    assert pod["automountServiceAccountToken"] is True
    assert pod["terminationGracePeriodSeconds"] == 10 * 60 + 20 + 10
    assert pod["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    (container,) = pod["containers"]
    assert container["image"] == "registry.example/songgen-studio:sandbox"
    assert container["resources"]["limits"] == {"memory": "48Gi", "nvidia.com/gpu": "1"}
    assert container["resources"]["requests"] == {"cpu": "8", "memory": "48Gi", "nvidia.com/gpu": "1"}
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["SONGGEN_PLATFORM"] == "kubernetes"
    assert env["SONGGEN_K8S_DEPLOYMENT"] == "studio"
    assert env["SONGGEN_K8S_NAMESPACE"] == "songgen-studio-sandbox-kubernetes"
    assert env["SONGGEN_DATA_DIR"] == "/data"
    assert env["SONGGEN_IDLE_STOP_MINUTES"] == "15"
    assert (env["SONGGEN_DRAIN_SECONDS"], env["SONGGEN_STOP_GRACE_SECONDS"]) == ("600", "20")
    assert "HF_TOKEN" not in env
    assert container["startupProbe"]["httpGet"] == {"path": "/api/health", "port": "http"}
    assert (
        container["startupProbe"]["periodSeconds"] * container["startupProbe"]["failureThreshold"] == 120 * 60
    )
    assert container["readinessProbe"]["httpGet"]["path"] == "/api/health"
    assert container["livenessProbe"]["httpGet"]["path"] == "/api/health"
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts == {"data": "/data", "shm": "/dev/shm"}
    claims = [v for v in pod["volumes"] if "persistentVolumeClaim" in v]
    assert claims == [{"name": "data", "persistentVolumeClaim": {"claimName": "studio-data"}}]


def test_the_claim_holds_the_cache_in_the_chosen_class_and_is_not_awaited_by_the_provider(
    kubeconfig: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    claim = one(program_of(monkeypatch), "kubernetes:core/v1:PersistentVolumeClaim")
    assert claim["metadata"]["name"] == "studio-data"
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert claim["spec"]["storageClassName"] == "local-static"
    assert claim["spec"]["resources"]["requests"]["storage"] == "37Gi"
    assert claim["metadata"]["annotations"]["pulumi.com/skipAwait"] == "true"


def test_the_studio_may_only_get_and_patch_the_scale_of_its_own_deployment(
    kubeconfig: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    program = program_of(monkeypatch)
    role = one(program, "kubernetes:rbac.authorization.k8s.io/v1:Role")
    assert role["rules"] == [
        {
            "apiGroups": ["apps"],
            "resources": ["deployments/scale"],
            "resourceNames": ["studio"],
            "verbs": ["get", "patch"],
        }
    ]
    binding = one(program, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding")
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "studio-scale-self",
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "studio", "namespace": "songgen-studio-sandbox-kubernetes"}
    ]


def test_the_hf_token_is_a_secret_object_the_pod_reads_by_reference(
    kubeconfig: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    program = program_of(monkeypatch, {"hfToken": "hf_mocked_value"}, frozenset({"hfToken"}))
    secret = one(program, "kubernetes:core/v1:Secret")
    assert rpc.is_rpc_secret(secret["stringData"]) or rpc.is_rpc_secret(secret["stringData"]["HF_TOKEN"])
    deployment = one(program, "kubernetes:apps/v1:Deployment")
    env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {
        "name": "HF_TOKEN",
        "valueFrom": {"secretKeyRef": {"name": "studio-hf-token", "key": "HF_TOKEN"}},
    } in env
    assert "hf_mocked_value" not in repr(deployment)


def test_the_provider_gets_the_kubeconfig_as_a_secret_and_our_providers_never_see_it(
    kubeconfig: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    program = program_of(monkeypatch)
    (provider,) = [r.state for urn, r in program.resources.items() if "pulumi:providers:kubernetes" in urn]
    assert rpc.is_rpc_secret(provider["kubeconfig"])
    for urn, registration in program.resources.items():
        if "dynamic/kubernetes" in urn:
            assert "mock-kube-token" not in repr(registration.state), urn


def test_an_ingress_with_tls_and_the_keda_add_on_route_through_the_interceptor(
    kubeconfig: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    program = program_of(
        monkeypatch,
        {
            "ingressHost": "studio.example.com",
            "ingressTlsSecret": "studio-tls",
            "ingressClass": "nginx",
            "kedaHttpAddOn": "true",
        },
    )
    ingress = one(program, "kubernetes:networking.k8s.io/v1:Ingress")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["tls"] == [{"hosts": ["studio.example.com"], "secretName": "studio-tls"}]
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] == "studio.example.com"
    assert rule["http"]["paths"][0]["backend"]["service"] == {"name": "studio-wake", "port": {"number": 8080}}
    services = {s["metadata"]["name"]: s for s in kind(program, "kubernetes:core/v1:Service")}
    assert (
        services["studio-wake"]["spec"]["externalName"]
        == "keda-add-ons-http-interceptor-proxy.keda.svc.cluster.local"
    )
    scaled = one(program, "kubernetes:http.keda.sh/v1alpha1:HTTPScaledObject")
    assert scaled["spec"]["hosts"] == ["studio.example.com"]
    assert scaled["spec"]["scaleTargetRef"] == {
        "name": "studio",
        "kind": "Deployment",
        "apiVersion": "apps/v1",
        "service": "studio",
        "port": 80,
    }
    assert scaled["spec"]["replicas"] == {"min": 0, "max": 1}
    assert program.outputs["url"] == "https://studio.example.com"


def test_outputs_say_where_to_look_how_to_wake_it_and_what_it_costs(
    kubeconfig: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    program = program_of(monkeypatch, {"kubeContext": "lab"})
    look = program.outputs["look"]
    assert look["logs"] == "kubectl --context lab -n songgen-studio-sandbox-kubernetes logs deploy/studio -f"
    assert (
        look["wake"]
        == "kubectl --context lab -n songgen-studio-sandbox-kubernetes scale deployment/studio --replicas=1"
    )
    assert look["open"].endswith("port-forward svc/studio 7860:80")
    assert program.outputs["url"] == "http://127.0.0.1:7860"
    cost = program.outputs["cost"]
    assert cost.per_running_hour == pytest.approx(1.1472)
    assert cost.per_idle_month == pytest.approx(37 * 0.10)
    assert program.outputs["namespace"] == "songgen-studio-sandbox-kubernetes"
