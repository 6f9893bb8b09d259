"""Kubernetes as a place to run the Studio: any cluster with a GPU node (pool) and a kubeconfig."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi

from components.platform import Deployment
from components.settings import PlatformName, StudioSettings
from components.spec import StudioSpec

from . import studio
from .settings import KubernetesSettings


class KubernetesPlatform:
    name = PlatformName.KUBERNETES
    settings_model: type[StudioSettings] = KubernetesSettings
    unsupported: Mapping[str, str] = {
        "replicas": (
            "one Studio per claim: its songs, queue and model cache live on one ReadWriteOnce claim, so a stack "
            "runs 0 or 1 replica; run a second stack for a second Studio"
        ),
        "gpus": "one GPU per Studio: it generates one song at a time",
    }

    def notices(self, settings: StudioSettings) -> list[str]:
        k8s = _kubernetes(settings)
        return [
            f"The Studio scales its own Deployment to zero after {k8s.idle_stop_minutes} idle minutes (never "
            f"during a song); wake it with: {studio.kubectl(k8s)} scale deployment/{k8s.name} --replicas=1"
            + (" or any request to its host (KEDA HTTP add-on)" if k8s.keda_http_add_on else "")
        ]

    def stored_data(self, settings: StudioSettings) -> Mapping[str, str]:
        return studio.stored_data(_kubernetes(settings))

    def deploy(
        self,
        parent: pulumi.ComponentResource,
        settings: StudioSettings,
        spec: StudioSpec,
        after: Sequence[pulumi.Resource],
    ) -> Deployment:
        return studio.deploy(parent, _kubernetes(settings), spec, after)


def _kubernetes(settings: StudioSettings) -> KubernetesSettings:
    assert isinstance(settings, KubernetesSettings)  # the registry pairs this platform with this model
    return settings


PLATFORM = KubernetesPlatform()
