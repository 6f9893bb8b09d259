"""The Studio on Kubernetes: an explicit provider from the stack's kubeconfig, the preflight, the objects, and
the rollout watch.

Order: the stored-data guard and the preflight (reach, ownership) come first; the namespace; then the claim,
the token Secret and the ServiceAccount with its Role, which the pod needs before it can start; the
Deployment; the Service and, when asked, the Ingress and the KEDA objects; last the rollout watch.

Replicas belong to the Studio once it exists: it scales its own Deployment to zero when idle (through the scale
subresource, with its ServiceAccount), and `kubectl scale ... --replicas=1` (or KEDA's add-on) wakes it.
`ignore_changes` on spec.replicas keeps `pulumi up`, refresh and the drift check from counting that as drift
or undoing it: pulumi-kubernetes then leaves a replica count another field manager set out of its apply.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components.image import build_and_push, content_tag
from components.platform import Deployment
from components.spec import StudioSpec

from . import objects
from .catalog import OWNER_LABEL
from .kubeconfig import text_from_environment
from .objects import Names
from .preflight import Preflight
from .pricing import estimate
from .rollout import Rollout
from .settings import ImageBuilder, KubernetesSettings, ServiceType

PORT_FORWARD = 7860


def kubeconfig_text(settings: KubernetesSettings) -> str:
    if settings.kubeconfig is not None:
        return settings.kubeconfig.get_secret_value()
    text = text_from_environment()
    if text is None:
        raise pulumi.RunError(
            "no kubeconfig for this stack: set KUBECONFIG to your cluster's file (e.g. after gcloud container "
            "clusters get-credentials), or store one as a secret: pulumi config set --secret kubeconfig < file"
        )
    return text


def cluster_of(text: str, context: str | None) -> str:
    """The API server a kubeconfig's context points at (no network), or the context's name if unreadable."""
    try:
        document = yaml.safe_load(text) or {}
        name = context or document.get("current-context")
        ctx = next(c["context"] for c in document.get("contexts") or [] if c.get("name") == name)
        return str(
            next(
                c["cluster"]["server"]
                for c in document.get("clusters") or []
                if c.get("name") == ctx["cluster"]
            )
        )
    except (yaml.YAMLError, StopIteration, KeyError, TypeError, AttributeError):
        return f"context {context or 'current'}"


def stored_data(settings: KubernetesSettings) -> dict[str, str]:
    """The claim, by cluster, namespace, name and storage class: a change of any makes a new, empty claim."""
    names = Names.of(settings)
    try:
        where = cluster_of(kubeconfig_text(settings), settings.kube_context)
    except pulumi.RunError:
        where = f"context {settings.kube_context or 'current'}"
    storage_class = settings.storage_class or "the cluster's default class"
    return {
        f"{where}|{names.namespace}/{names.claim}|{settings.storage_class or ''}": (
            f"claim {names.claim} in namespace {names.namespace} ({settings.claim_gb} GB, {storage_class})"
        )
    }


def image_of(settings: KubernetesSettings, opts: pulumi.ResourceOptions) -> pulumi.Output[str]:
    if settings.image_builder is ImageBuilder.PREBUILT:
        assert settings.image is not None  # validated with the settings
        return pulumi.Output.from_input(settings.image)
    assert settings.image_registry is not None
    return build_and_push(
        "image",
        image_name=f"{settings.image_registry}:{content_tag(settings)}",
        settings=settings,
        registry=None,  # the credentials of `docker login` on this machine
        opts=opts,
    )


def kubectl(settings: KubernetesSettings) -> str:
    context = f" --context {settings.kube_context}" if settings.kube_context else ""
    return f"kubectl{context} -n {settings.namespace}"


def deploy(
    parent: pulumi.ComponentResource,
    settings: KubernetesSettings,
    spec: StudioSpec,
    after: Sequence[pulumi.Resource],
) -> Deployment:
    names = Names.of(settings)
    provider = k8s.Provider(
        "kubernetes",
        kubeconfig=pulumi.Output.secret(kubeconfig_text(settings)),
        context=settings.kube_context,
        enable_server_side_apply=True,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    preflight = Preflight(
        "preflight",
        context=settings.kube_context,
        namespace=names.namespace,
        create_namespace=settings.create_namespace,
        owner=spec.owner,
        objects=objects.declared(settings, spec),
        gpu_resource=settings.gpu_resource,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(after)),
    )

    def opts(*depends_on: pulumi.Resource, **extra: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(
            parent=parent, provider=provider, depends_on=[*after, preflight, *depends_on], **extra
        )

    first: list[pulumi.Resource] = []
    if settings.create_namespace:
        first.append(k8s.core.v1.Namespace("namespace", **objects.namespace(settings, spec), opts=opts()))
    claim = k8s.core.v1.PersistentVolumeClaim("claim", **objects.claim(settings, spec), opts=opts(*first))
    account = k8s.core.v1.ServiceAccount(
        "service-account", **objects.service_account(settings, spec), opts=opts(*first)
    )
    role = k8s.rbac.v1.Role("scale-role", **objects.scale_role(settings, spec), opts=opts(*first))
    binding = k8s.rbac.v1.RoleBinding(
        "scale-role-binding", **objects.scale_role_binding(settings, spec), opts=opts(role, account)
    )
    needs: list[pulumi.Resource] = [claim, account, binding]
    if spec.hf_token is not None:
        token = pulumi.Output.secret(spec.hf_token.get_secret_value())
        needs.append(
            k8s.core.v1.Secret("hf-token", **objects.token_secret(settings, spec, token), opts=opts(*first))
        )

    image = image_of(settings, pulumi.ResourceOptions(parent=parent, depends_on=list(after)))
    deployment = k8s.apps.v1.Deployment(
        "deployment",
        **objects.deployment(settings, spec, image),
        opts=opts(*needs, ignore_changes=["spec.replicas"]),
    )
    service = k8s.core.v1.Service("service", **objects.service(settings, spec), opts=opts(*first))
    exposed: list[pulumi.Resource] = [service]
    if settings.keda_http_add_on:
        exposed.append(
            k8s.core.v1.Service("wake-service", **objects.wake_service(settings, spec), opts=opts(*first))
        )
        scaled = objects.http_scaled_object(settings, spec)
        exposed.append(
            k8s.apiextensions.CustomResource(
                "http-scaled-object",
                api_version=scaled["apiVersion"],
                kind=scaled["kind"],
                metadata=scaled["metadata"],
                spec=scaled["spec"],
                opts=opts(deployment, service),
            )
        )
    if settings.ingress_host is not None:
        exposed.append(
            k8s.networking.v1.Ingress("ingress", **objects.ingress(settings, spec), opts=opts(*exposed))
        )

    rollout = Rollout(
        "rollout",
        {
            "context": settings.kube_context,
            "namespace": names.namespace,
            "deployment": names.deployment,
            "claim": names.claim,
            "service": names.service,
            "service_type": settings.service_type.value,
            "template_hash": image.apply(lambda ref: objects.template_hash(settings, spec, ref)),
            "gpu_resource": settings.gpu_resource,
            "timeout_s": settings.rollout_minutes * 60,
            "owner": spec.owner,
            "create_namespace": settings.create_namespace,
        },
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[*after, preflight, deployment, *exposed]),
    )
    return Deployment(
        url=url(settings, rollout),
        image=image,
        runs=pulumi.Output.all(
            {
                "id": deployment.metadata.apply(lambda m: m.uid),
                "kind": "kubernetes deployment",
                "where": f"{settings.kube_context or 'current context'}/{names.namespace}",
                "name": names.deployment,
                "state": rollout.state,
            }
        ),
        stores=pulumi.Output.all(
            {
                "id": claim.metadata.apply(lambda m: m.uid),
                "kind": "kubernetes persistentvolumeclaim",
                "where": names.namespace,
                "name": names.claim,
                "volume": rollout.volume,
                "size_gb": settings.claim_gb,
                "holds": "model cache, songs, uploads, queue",
            }
        ),
        cost=estimate(settings),
        look=look(settings, spec),
        extras={
            "namespace": names.namespace,
            "objects": sorted(
                f"{plural[:-1]}/{name}"
                for collection, found in objects.declared(settings, spec).items()
                for plural in [collection.rpartition("/")[2]]
                for name in found
            ),
        },
    )


def url(settings: KubernetesSettings, rollout: Rollout) -> pulumi.Output[str]:
    if settings.ingress_host is not None:
        scheme = "https" if settings.ingress_tls_secret else "http"
        return pulumi.Output.from_input(f"{scheme}://{settings.ingress_host}")
    if settings.service_type is ServiceType.LOAD_BALANCER:
        return rollout.address.apply(lambda address: f"http://{address}")
    # A ClusterIP (or NodePort) Service answers inside the cluster; `look.open` forwards it here.
    return pulumi.Output.from_input(f"http://127.0.0.1:{PORT_FORWARD}")


def look(settings: KubernetesSettings, spec: StudioSpec) -> dict[str, str]:
    from components.dynamic.ownership import digest

    names = Names.of(settings)
    k = kubectl(settings)
    return {
        "logs": f"{k} logs deploy/{names.deployment} -f",
        "shell": f"{k} exec -it deploy/{names.deployment} -- bash",
        "status": f"{k} get deploy,pod,pvc,svc -l {OWNER_LABEL}={digest(spec.owner)}",
        "open": f"{k} port-forward svc/{names.service} {PORT_FORWARD}:{objects.SERVICE_PORT}",
        "wake": f"{k} scale deployment/{names.deployment} --replicas=1",
    }
