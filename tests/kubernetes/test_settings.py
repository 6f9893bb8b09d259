"""Each rule of a Kubernetes stack's settings, with a bad input and the message a person reads."""

from __future__ import annotations

from typing import Any

import pytest

from components.catalog import ModelId, cache_size_needed_gb
from components.kubernetes.platform import PLATFORM
from components.kubernetes.pricing import estimate
from components.kubernetes.settings import ImageBuilder, KubernetesSettings, ServiceType
from components.platforms import load_settings
from components.settings import SettingsError

PREBUILT = {"platform": "kubernetes", "imageBuilder": "prebuilt", "image": "ghcr.io/me/studio:v1"}


def settings(raw: dict[str, Any], secret: tuple[str, ...] = (), stack: str = "dev") -> KubernetesSettings:
    loaded = load_settings(stack, {**PREBUILT, **raw}, secret_keys=secret).settings
    assert isinstance(loaded, KubernetesSettings)
    return loaded


def issues(raw: dict[str, Any], secret: tuple[str, ...] = ()) -> dict[str, str]:
    with pytest.raises(SettingsError) as caught:
        load_settings("dev", {**PREBUILT, **raw}, secret_keys=secret)
    return {issue.key: issue.message for issue in caught.value.issues}


def test_defaults_describe_one_studio_with_one_nvidia_gpu_in_a_namespace_of_its_own() -> None:
    s = settings({})
    assert s.namespace == "songgen-studio-dev"
    assert (s.name, s.gpu_resource, s.replicas, s.memory_gb, s.cpus) == ("studio", "nvidia.com/gpu", 1, 48, 8)
    assert s.claim_gb == cache_size_needed_gb([ModelId.BASE])
    assert s.service_type is ServiceType.CLUSTER_IP
    assert [t.as_manifest() for t in s.tolerations] == [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    ]
    assert s.create_namespace is True


def test_structured_values_arrive_as_json_text_and_are_converted() -> None:
    s = settings(
        {
            "nodeSelector": '{"cloud.google.com/gke-accelerator": "nvidia-l4"}',
            "tolerations": '[{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}]',
            "claimSizeGb": "100",
            "replicas": "0",
        }
    )
    assert s.node_selector == {"cloud.google.com/gke-accelerator": "nvidia-l4"}
    assert s.tolerations[0].as_manifest() == {
        "key": "dedicated",
        "operator": "Equal",
        "value": "gpu",
        "effect": "NoSchedule",
    }
    assert (s.claim_gb, s.replicas) == (100, 0)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("namespace", "Studio_NS", "a DNS label"),
        ("name", "x" * 41, "at most 40 lowercase letters"),
        ("gpuResource", "gpu", "an extended resource name such as nvidia.com/gpu"),
        ("storageClass", "Fast SSD", "a StorageClass name"),
        ("replicas", "2", "less than or equal to 1"),
        (
            "claimSizeGb",
            "10",
            "cannot hold the runtime bundle (15.1 GB) and base (11.3 GB) with headroom; set at least 37",
        ),
        ("memoryGb", "16", "16 GB is too little: the Studio needs at least 31"),
        ("serviceType", "Ingress", "'ClusterIP', 'NodePort' or 'LoadBalancer'"),
        ("ingressHost", "https://studio.example.com", "a DNS name"),
        ("tolerations", '[{"key": "a", "operator": "Maybe"}]', "'Exists' or 'Equal'"),
        ("tolerations", '[{"key": "a", "colour": "red"}]', "Extra inputs are not permitted"),
        (
            "gpuNodeType",
            "p5.48xlarge",
            "is not in the catalog; use one of gke-g2-standard-16, eks-g6.4xlarge",
        ),
        ("kedaInterceptor", "keda-proxy", "namespace/service:port"),
        ("imageRegistry", "ghcr.io/me/studio:v1", "a repository without a tag"),
        ("nodePricePerHour", "-1", "greater than or equal to 0"),
        ("drainMinutes", "500", "less than or equal to 240"),
    ],
)
def test_each_key_is_checked_on_its_own(key: str, value: str, expected: str) -> None:
    assert expected in issues({key: value})[key]


def test_more_memory_than_the_chosen_node_type_leaves_to_pods_is_refused() -> None:
    found = issues({"gpuNodeType": "gke-g2-standard-16", "memoryGb": "64"})
    assert found == {
        "memoryGb": "64 GB does not fit a g2-standard-16 (64 GB, about 58 GB left to pods): the pod would never be scheduled"
    }


def test_the_kubeconfig_setting_is_secret_only() -> None:
    assert issues({"kubeconfig": "apiVersion: v1"}) == {
        "kubeconfig": "is stored in plain text; set it with `pulumi config set --secret kubeconfig <value>`"
    }
    assert settings({"kubeconfig": "apiVersion: v1"}, ("kubeconfig",)).kubeconfig is not None


def test_a_local_build_needs_a_registry_and_a_prebuilt_image_needs_a_reference() -> None:
    local = {"imageBuilder": "local", "image": None}
    found = issues({**local, "image": "ghcr.io/me/studio:v1"})
    assert "is 'local' but image is set" in found["imageBuilder"]
    assert "imageRegistry" in found
    built = load_settings("dev", {"platform": "kubernetes", "imageRegistry": "ghcr.io/me/studio"}).settings
    assert isinstance(built, KubernetesSettings)
    assert built.image_builder is ImageBuilder.LOCAL
    assert (
        "is required when imageBuilder is 'prebuilt'"
        in issues({"image": None} | {"imageBuilder": "prebuilt"})["image"]
    )


def test_tls_and_the_keda_add_on_need_an_ingress_host() -> None:
    found = issues({"ingressTlsSecret": "studio-tls", "kedaHttpAddOn": "true"})
    assert found["ingressTlsSecret"] == "needs ingressHost: TLS is for the Ingress's host"
    assert "routes requests by their Host header" in found["kedaHttpAddOn"]


def test_a_fly_key_in_a_kubernetes_stack_is_named_as_misplaced() -> None:
    assert issues({"appName": "x"})["appName"].startswith(
        "is a fly setting, and this stack's platform is 'kubernetes'"
    )


def test_low_memory_and_no_idle_stop_are_warned_about() -> None:
    loaded = load_settings("dev", {**PREBUILT, "memoryGb": "32", "idleStopMinutes": "0"})
    assert any("OOM-killed at 32 GB" in w for w in loaded.warnings)
    assert any("never scales itself to zero" in w for w in loaded.warnings)


def test_the_cost_comes_from_the_catalog_or_the_stack_or_is_unknown() -> None:
    catalog = estimate(settings({"gpuNodeType": "eks-g6.4xlarge"}))
    assert catalog.per_running_hour == pytest.approx(1.3232)
    assert catalog.per_idle_month == pytest.approx(37 * 0.08)
    assert catalog.prices_as_of == "2026-11-01"
    own = estimate(settings({"nodePricePerHour": "0.9", "diskPricePerGbMonth": "0.05"}))
    assert own.per_running_hour == 0.9
    assert own.per_idle_month == pytest.approx(37 * 0.05)
    unknown = estimate(settings({})).as_output()
    assert (unknown["per_running_hour"], unknown["per_month_at_busy_hours"]) == ("unknown", "unknown")


def test_the_notice_says_how_to_wake_a_studio_that_scaled_itself_to_zero() -> None:
    (notice,) = PLATFORM.notices(settings({"kubeContext": "gke"}))
    assert "kubectl --context gke -n songgen-studio-dev scale deployment/studio --replicas=1" in notice
