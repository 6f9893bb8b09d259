"""A Kubernetes stack's settings: the shared Studio settings plus the cluster's own keys, with their rules."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, SecretStr

from components.catalog import MODELS, RUNTIME_BUNDLE, cache_size_needed_gb
from components.dynamic.ownership import slug
from components.settings import (
    PROJECT,
    FieldRule,
    Issue,
    StudioSettings,
    Validated,
    image_reference,
    matches,
    valid,
)
from components.spec import MIN_RAM_GB

from .catalog import DEFAULT_GPU_RESOURCE, DEFAULT_TOLERATIONS, KEDA_INTERCEPTOR, NODE_TYPES

# RFC 1123 labels: namespaces, and the Studio's object names (room left for suffixes such as "-data").
DNS_LABEL = re.compile(r"^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$")
OBJECT_NAME = re.compile(r"^[a-z0-9](?:[-a-z0-9]{0,38}[a-z0-9])?$")
DNS_NAME = re.compile(r"^(?=.{1,253}$)[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$")
# An extended resource: a domain prefix and a name (nvidia.com/gpu, amd.com/gpu, gpu.intel.com/i915).
EXTENDED_RESOURCE = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
REPOSITORY = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)+$")
INTERCEPTOR = re.compile(r"^(?P<namespace>[a-z0-9-]+)/(?P<service>[a-z0-9-]+):(?P<port>[0-9]{1,5})$")

# The Studio was OOM-killed with 32 GB; below this, a warning.
COMFORTABLE_MEMORY_GB = 40


class ImageBuilder(StrEnum):
    LOCAL = "local"  # docker build here, pushed to imageRegistry
    PREBUILT = "prebuilt"  # an existing reference, nothing is built


class ServiceType(StrEnum):
    CLUSTER_IP = "ClusterIP"
    NODE_PORT = "NodePort"
    LOAD_BALANCER = "LoadBalancer"


class Toleration(Validated):
    """One toleration, in the Kubernetes API's own field names."""

    key: str | None = None
    operator: Literal["Exists", "Equal"] = "Equal"
    value: str | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None
    toleration_seconds: int | None = None

    def as_manifest(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True)


def _default_tolerations() -> list[Toleration]:
    return [Toleration.model_validate(t) for t in DEFAULT_TOLERATIONS]


def _node_type(value: str) -> str:
    if value not in NODE_TYPES:
        raise ValueError(
            f"{value!r} is not in the catalog; use one of {', '.join(NODE_TYPES)}, or set nodePricePerHour"
        )
    return value


class KubernetesSettings(StudioSettings):
    """A stack that deploys to a Kubernetes cluster with a GPU node (pool)."""

    FIELD_RULES: ClassVar[dict[str, FieldRule]] = {
        **StudioSettings.FIELD_RULES,
        "namespace": matches(DNS_LABEL, "a DNS label: at most 63 lowercase letters, digits and hyphens"),
        "name": matches(OBJECT_NAME, "at most 40 lowercase letters, digits and hyphens"),
        "gpu_resource": matches(EXTENDED_RESOURCE, "an extended resource name such as nvidia.com/gpu"),
        "storage_class": matches(DNS_NAME, "a StorageClass name (kubectl get storageclass)"),
        "image": image_reference,
        "image_registry": matches(REPOSITORY, "a repository without a tag, e.g. ghcr.io/me/songgen-studio"),
        "ingress_host": matches(DNS_NAME, "a DNS name such as studio.example.com"),
        "ingress_class": matches(DNS_NAME, "an IngressClass name (kubectl get ingressclass)"),
        "ingress_tls_secret": matches(DNS_NAME, "the name of a kubernetes.io/tls Secret"),
        "keda_interceptor": matches(INTERCEPTOR, "namespace/service:port of the add-on's interceptor proxy"),
        "gpu_node_type": _node_type,
    }
    STRUCTURED: ClassVar[frozenset[str]] = StudioSettings.STRUCTURED | {"node_selector", "tolerations"}
    SECRET: ClassVar[frozenset[str]] = StudioSettings.SECRET | {"kubeconfig"}

    # The kubeconfig's text, as a secret; unset: the file(s) KUBECONFIG names, else ~/.kube/config.
    kubeconfig: SecretStr | None = None
    kube_context: str | None = None
    namespace: str
    create_namespace: bool = True
    name: str = "studio"
    gpu_resource: str = DEFAULT_GPU_RESOURCE
    node_selector: dict[str, str] = Field(default_factory=dict)
    tolerations: list[Toleration] = Field(default_factory=_default_tolerations)
    storage_class: str | None = None
    # Unset: what the runtime bundle and the models need, with headroom.
    claim_size_gb: Annotated[int, Field(ge=1, le=65536)] | None = None
    # At creation; afterwards the Studio (idle stop) and `kubectl scale` own the count (see the README).
    replicas: Annotated[int, Field(ge=0, le=1)] = 1
    cpus: Annotated[int, Field(ge=1, le=192)] = 8
    memory_gb: Annotated[int, Field(ge=1, le=2048)] = 48
    image_builder: ImageBuilder = ImageBuilder.LOCAL
    image: str | None = None
    image_registry: str | None = None
    service_type: ServiceType = ServiceType.CLUSTER_IP
    ingress_host: str | None = None
    ingress_class: str | None = None
    ingress_tls_secret: str | None = None
    keda_http_add_on: bool = False
    keda_interceptor: str = KEDA_INTERCEPTOR
    gpu_node_type: str | None = None
    node_price_per_hour: Annotated[float, Field(ge=0)] | None = None
    disk_price_per_gb_month: Annotated[float, Field(ge=0)] | None = None
    # On SIGTERM the Studio waits this long for running and queued songs before it stops.
    drain_minutes: Annotated[int, Field(ge=0, le=240)] = 10
    # The startup probe's budget: a first boot fills about 26 GB of weights before the Studio answers.
    startup_minutes: Annotated[int, Field(ge=5, le=1440)] = 120
    # How long `pulumi up` waits for the claim to bind and the pod to be placed and started.
    rollout_minutes: Annotated[int, Field(ge=1, le=120)] = 20

    @classmethod
    def stack_defaults(cls, stack: str) -> dict[str, Any]:
        return {"namespace": slug(f"{PROJECT}-{stack}", 63)}

    @property
    def claim_gb(self) -> int:
        return (
            self.claim_size_gb if self.claim_size_gb is not None else cache_size_needed_gb(list(self.models))
        )

    def cross_checks(self, explicit: set[str]) -> list[Issue]:
        return [
            *super().cross_checks(explicit),
            *self._claim(),
            *self._memory(),
            *self._image(explicit),
            *self._exposure(),
        ]

    def _claim(self) -> list[Issue]:
        if not (valid(self.models, list) and valid(self.claim_size_gb, int)):
            return []
        needed = cache_size_needed_gb(list(self.models))
        if self.claim_size_gb is None or self.claim_size_gb >= needed:
            return []
        names = ", ".join(f"{m.value} ({MODELS[m].size_gb} GB)" for m in dict.fromkeys(self.models))
        return [
            Issue(
                "claimSizeGb",
                f"{self.claim_size_gb} GB cannot hold the runtime bundle ({RUNTIME_BUNDLE.size_gb} GB) and "
                f"{names} with headroom; set at least {needed}",
            )
        ]

    def _memory(self) -> list[Issue]:
        if not valid(self.memory_gb, int):
            return []
        if self.memory_gb < MIN_RAM_GB:
            return [
                Issue(
                    "memoryGb", f"{self.memory_gb} GB is too little: the Studio needs at least {MIN_RAM_GB}"
                )
            ]
        node = NODE_TYPES.get(str(self.gpu_node_type)) if valid(self.gpu_node_type, str) else None
        if node is not None and self.memory_gb > node.allocatable_memory_gb:
            return [
                Issue(
                    "memoryGb",
                    f"{self.memory_gb} GB does not fit a {node.machine} ({node.memory_gb} GB, about "
                    f"{node.allocatable_memory_gb} GB left to pods): the pod would never be scheduled",
                )
            ]
        return []

    def _image(self, explicit: set[str]) -> list[Issue]:
        builder = self.image_builder if valid(self.image_builder, ImageBuilder) else None
        issues = []
        if builder is ImageBuilder.PREBUILT and self.image is None:
            issues.append(
                Issue("image", "is required when imageBuilder is 'prebuilt'; give a reference with a tag")
            )
        if builder is ImageBuilder.LOCAL and "image" in explicit:
            issues.append(Issue("imageBuilder", "is 'local' but image is set; use 'prebuilt' with image"))
        if builder is ImageBuilder.LOCAL and self.image_registry is None:
            issues.append(
                Issue(
                    "imageRegistry",
                    "is required when imageBuilder is 'local' (the default): the repository the cluster pulls "
                    "from, e.g. ghcr.io/me/songgen-studio; or set imageBuilder prebuilt and image",
                )
            )
        return issues

    def _exposure(self) -> list[Issue]:
        issues = []
        if self.ingress_host is None:
            if self.ingress_tls_secret is not None:
                issues.append(Issue("ingressTlsSecret", "needs ingressHost: TLS is for the Ingress's host"))
            if self.keda_http_add_on is True:
                issues.append(
                    Issue(
                        "kedaHttpAddOn",
                        "needs ingressHost: the add-on's interceptor routes requests by their Host header",
                    )
                )
        return issues

    def warnings(self) -> list[str]:
        warnings = []
        if MIN_RAM_GB <= self.memory_gb < COMFORTABLE_MEMORY_GB:
            warnings.append(
                f"{PROJECT}:memoryGb is {self.memory_gb} GB; the Studio was OOM-killed at 32 GB, "
                f"{COMFORTABLE_MEMORY_GB} or more is safer"
            )
        if self.idle_stop_minutes == 0:
            warnings.append(
                f"{PROJECT}:idleStopMinutes is 0: the Studio never scales itself to zero, so its GPU node runs "
                "(and is billed) until you scale it down"
            )
        return warnings
