"""Every object of a Studio on Kubernetes, as the manifest pulumi-kubernetes is given: pure functions of the
settings and the spec, so each field can be read (and tested) without an engine.

Names: the Deployment, its Service, ServiceAccount and Ingress are `name`; the claim `<name>-data`, the token
Secret `<name>-hf-token`, the Role and its binding `<name>-scale-self`. Every object carries the stack's
owner id (annotation) and labels a person can select by.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from components.dynamic.ownership import digest
from components.runtime import DATA_PATH, HEALTH_PATH, STUDIO_PORT, studio_env
from components.settings import PlatformName
from components.spec import StudioSpec

from .catalog import (
    KEDA_SCALEDOWN_SECONDS,
    OWNER_ANNOTATION,
    OWNER_LABEL,
    PART_OF,
    STOP_GRACE_SECONDS,
    TERMINATION_MARGIN_SECONDS,
)
from .settings import INTERCEPTOR, KubernetesSettings

Manifest = dict[str, Any]

SERVICE_PORT = 80
STUDIO_UID = 1000  # the image's `songgen` user
SKIP_AWAIT = {"pulumi.com/skipAwait": "true"}  # the rollout watch waits instead, with reasons (rollout.py)
HF_TOKEN_KEY = "HF_TOKEN"  # noqa: S105 - the key's name
SHM_GB = 8  # PyTorch shares tensors through /dev/shm; a container's default is 64 MB
SHM_PATH = "/dev/shm"  # noqa: S108 - the container's shared memory, not a temporary file


@dataclass(frozen=True)
class Names:
    namespace: str
    deployment: str
    claim: str
    token_secret: str
    service: str
    service_account: str
    role: str
    ingress: str
    wake_service: str

    @classmethod
    def of(cls, settings: KubernetesSettings) -> Names:
        name = settings.name
        return cls(
            namespace=settings.namespace,
            deployment=name,
            claim=f"{name}-data",
            token_secret=f"{name}-hf-token",
            service=name,
            service_account=name,
            role=f"{name}-scale-self",
            ingress=name,
            wake_service=f"{name}-wake",
        )


def selector(settings: KubernetesSettings) -> dict[str, str]:
    """The pod labels the Deployment and Service select by (immutable once the Deployment exists)."""
    return {"app.kubernetes.io/name": PART_OF, "app.kubernetes.io/instance": settings.name}


def metadata(
    settings: KubernetesSettings, spec: StudioSpec, name: str, *, await_: bool = True, namespaced: bool = True
) -> Manifest:
    labels = {
        **selector(settings),
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": "pulumi",
        OWNER_LABEL: digest(spec.owner),
    }
    annotations = {OWNER_ANNOTATION: spec.owner, **({} if await_ else SKIP_AWAIT)}
    meta: Manifest = {"name": name, "labels": labels, "annotations": annotations}
    if namespaced:
        meta["namespace"] = settings.namespace
    return meta


def namespace(settings: KubernetesSettings, spec: StudioSpec) -> Manifest:
    return {"metadata": metadata(settings, spec, settings.namespace, namespaced=False)}


def claim(settings: KubernetesSettings, spec: StudioSpec) -> Manifest:
    claim_spec: Manifest = {
        "access_modes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": f"{settings.claim_gb}Gi"}},
    }
    if settings.storage_class is not None:
        claim_spec["storage_class_name"] = settings.storage_class
    return {"metadata": metadata(settings, spec, Names.of(settings).claim, await_=False), "spec": claim_spec}


def token_secret(settings: KubernetesSettings, spec: StudioSpec, token: Any) -> Manifest:
    return {
        "metadata": metadata(settings, spec, Names.of(settings).token_secret),
        "type": "Opaque",
        "string_data": {HF_TOKEN_KEY: token},
    }


def service_account(settings: KubernetesSettings, spec: StudioSpec) -> Manifest:
    # The token is mounted: the entrypoint scales this Deployment to zero with it when idle.
    return {
        "metadata": metadata(settings, spec, Names.of(settings).service_account),
        "automount_service_account_token": True,
    }


def scale_role(settings: KubernetesSettings, spec: StudioSpec) -> Manifest:
    """What the Studio may do to the cluster: read and patch the scale of its own Deployment, nothing else."""
    names = Names.of(settings)
    return {
        "metadata": metadata(settings, spec, names.role),
        "rules": [
            {
                "api_groups": ["apps"],
                "resources": ["deployments/scale"],
                "resource_names": [names.deployment],
                "verbs": ["get", "patch"],
            }
        ],
    }


def scale_role_binding(settings: KubernetesSettings, spec: StudioSpec) -> Manifest:
    names = Names.of(settings)
    return {
        "metadata": metadata(settings, spec, names.role),
        "role_ref": {"api_group": "rbac.authorization.k8s.io", "kind": "Role", "name": names.role},
        "subjects": [{"kind": "ServiceAccount", "name": names.service_account, "namespace": names.namespace}],
    }


def termination_grace_seconds(settings: KubernetesSettings) -> int:
    """Longer than the entrypoint's drain plus its own stop grace, so a song finishes before SIGKILL."""
    return settings.drain_minutes * 60 + STOP_GRACE_SECONDS + TERMINATION_MARGIN_SECONDS


def container_env(settings: KubernetesSettings, spec: StudioSpec) -> list[Manifest]:
    names = Names.of(settings)
    plain = {
        **studio_env(
            PlatformName.KUBERNETES, models=list(spec.models), idle_stop_minutes=spec.idle_stop_minutes
        ),
        "SONGGEN_K8S_DEPLOYMENT": names.deployment,
        "SONGGEN_K8S_NAMESPACE": names.namespace,
        "SONGGEN_DRAIN_SECONDS": str(settings.drain_minutes * 60),
        "SONGGEN_STOP_GRACE_SECONDS": str(STOP_GRACE_SECONDS),
    }
    env: list[Manifest] = [{"name": key, "value": value} for key, value in plain.items()]
    if spec.hf_token is not None:
        env.append(
            {
                "name": HF_TOKEN_KEY,
                "value_from": {"secret_key_ref": {"name": names.token_secret, "key": HF_TOKEN_KEY}},
            }
        )
    return env


def _probe(period_s: int, failures: int, timeout_s: int) -> Manifest:
    return {
        "http_get": {"path": HEALTH_PATH, "port": "http"},
        "period_seconds": period_s,
        "failure_threshold": failures,
        "timeout_seconds": timeout_s,
    }


def pod_template(settings: KubernetesSettings, spec: StudioSpec, image: Any) -> Manifest:
    names = Names.of(settings)
    gpu = {settings.gpu_resource: "1"}
    memory = f"{settings.memory_gb}Gi"
    container: Manifest = {
        "name": "studio",
        "image": image,
        "image_pull_policy": "IfNotPresent",
        "ports": [{"name": "http", "container_port": STUDIO_PORT}],
        "env": container_env(settings, spec),
        "resources": {
            "requests": {"cpu": str(settings.cpus), "memory": memory, **gpu},
            "limits": {"memory": memory, **gpu},
        },
        "volume_mounts": [
            {"name": "data", "mount_path": DATA_PATH},
            {"name": "shm", "mount_path": SHM_PATH},
        ],
        # A first boot fills the claim before the Studio answers: the startup probe allows for it; liveness
        # and readiness start once it has answered.
        "startup_probe": _probe(10, settings.startup_minutes * 6, 5),
        "readiness_probe": _probe(10, 3, 5),
        "liveness_probe": _probe(30, 4, 10),
        "security_context": {"allow_privilege_escalation": False, "capabilities": {"drop": ["ALL"]}},
    }
    pod: Manifest = {
        "service_account_name": names.service_account,
        "automount_service_account_token": True,
        "termination_grace_period_seconds": termination_grace_seconds(settings),
        "security_context": {
            "run_as_non_root": True,
            "run_as_user": STUDIO_UID,
            "run_as_group": STUDIO_UID,
            "fs_group": STUDIO_UID,
            "fs_group_change_policy": "OnRootMismatch",
            "seccomp_profile": {"type": "RuntimeDefault"},
        },
        "tolerations": [t.as_manifest() for t in settings.tolerations],
        "containers": [container],
        "volumes": [
            {"name": "data", "persistent_volume_claim": {"claim_name": names.claim}},
            {"name": "shm", "empty_dir": {"medium": "Memory", "size_limit": f"{SHM_GB}Gi"}},
        ],
    }
    if settings.node_selector:
        pod["node_selector"] = dict(settings.node_selector)
    return {
        "metadata": {"labels": selector(settings), "annotations": {OWNER_ANNOTATION: spec.owner}},
        "spec": pod,
    }


def deployment(settings: KubernetesSettings, spec: StudioSpec, image: Any) -> Manifest:
    return {
        "metadata": metadata(settings, spec, Names.of(settings).deployment, await_=False),
        "spec": {
            "replicas": settings.replicas,
            # One GPU and a ReadWriteOnce claim: the old pod must be gone before the new one can start.
            "strategy": {"type": "Recreate"},
            "revision_history_limit": 3,
            "selector": {"match_labels": selector(settings)},
            "template": pod_template(settings, spec, image),
        },
    }


def template_hash(settings: KubernetesSettings, spec: StudioSpec, image: str) -> str:
    """Changes exactly when the pod template does: what tells the rollout watch a new rollout begins."""
    text = json.dumps(pod_template(settings, spec, image), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def service(settings: KubernetesSettings, spec: StudioSpec) -> Manifest:
    return {
        "metadata": metadata(settings, spec, Names.of(settings).service, await_=False),
        "spec": {
            "type": settings.service_type.value,
            "selector": selector(settings),
            "ports": [{"name": "http", "port": SERVICE_PORT, "target_port": "http", "protocol": "TCP"}],
        },
    }


def wake_service(settings: KubernetesSettings, spec: StudioSpec) -> Manifest:
    """KEDA: the Ingress sends requests to the add-on's interceptor, which holds them while the Studio wakes."""
    match = INTERCEPTOR.fullmatch(settings.keda_interceptor)
    assert match is not None  # validated with the settings
    return {
        "metadata": metadata(settings, spec, Names.of(settings).wake_service, await_=False),
        "spec": {
            "type": "ExternalName",
            "external_name": f"{match['service']}.{match['namespace']}.svc.cluster.local",
            "ports": [{"name": "http", "port": int(match["port"]), "protocol": "TCP"}],
        },
    }


def ingress(settings: KubernetesSettings, spec: StudioSpec) -> Manifest:
    names = Names.of(settings)
    if settings.keda_http_add_on:
        match = INTERCEPTOR.fullmatch(settings.keda_interceptor)
        assert match is not None
        backend = {"name": names.wake_service, "port": {"number": int(match["port"])}}
    else:
        backend = {"name": names.service, "port": {"number": SERVICE_PORT}}
    ingress_spec: Manifest = {
        "rules": [
            {
                "host": settings.ingress_host,
                "http": {"paths": [{"path": "/", "path_type": "Prefix", "backend": {"service": backend}}]},
            }
        ]
    }
    if settings.ingress_class is not None:
        ingress_spec["ingress_class_name"] = settings.ingress_class
    if settings.ingress_tls_secret is not None:
        ingress_spec["tls"] = [{"hosts": [settings.ingress_host], "secret_name": settings.ingress_tls_secret}]
    return {"metadata": metadata(settings, spec, names.ingress, await_=False), "spec": ingress_spec}


def http_scaled_object(settings: KubernetesSettings, spec: StudioSpec) -> Manifest:
    """KEDA HTTP add-on (http.keda.sh/v1alpha1): wake the Deployment from zero on the next request to the host.

    Raw API field names: this goes through CustomResource untranslated."""
    names = Names.of(settings)
    meta = metadata(settings, spec, names.deployment, await_=False)
    return {
        "apiVersion": "http.keda.sh/v1alpha1",
        "kind": "HTTPScaledObject",
        "metadata": meta,
        "spec": {
            "hosts": [settings.ingress_host],
            "scaleTargetRef": {
                "name": names.deployment,
                "kind": "Deployment",
                "apiVersion": "apps/v1",
                "service": names.service,
                "port": SERVICE_PORT,
            },
            "replicas": {"min": 0, "max": 1},
            "scaledownPeriod": KEDA_SCALEDOWN_SECONDS,
            # A woken Studio loads its model before it answers; hold the first request that long.
            "timeouts": {"conditionWait": "10m"},
        },
    }


def declared(settings: KubernetesSettings, spec: StudioSpec) -> dict[str, list[str]]:
    """The names of every namespaced object the stack declares, by API collection (for the ownership check)."""
    names = Names.of(settings)
    objects: dict[str, list[str]] = {
        "api/v1/persistentvolumeclaims": [names.claim],
        "api/v1/serviceaccounts": [names.service_account],
        "api/v1/services": [names.service],
        "apis/apps/v1/deployments": [names.deployment],
        "apis/rbac.authorization.k8s.io/v1/roles": [names.role],
        "apis/rbac.authorization.k8s.io/v1/rolebindings": [names.role],
    }
    if spec.hf_token is not None:
        objects["api/v1/secrets"] = [names.token_secret]
    if settings.ingress_host is not None:
        objects["apis/networking.k8s.io/v1/ingresses"] = [names.ingress]
    if settings.keda_http_add_on:
        objects["api/v1/services"].append(names.wake_service)
        objects["apis/http.keda.sh/v1alpha1/httpscaledobjects"] = [names.deployment]
    return objects
