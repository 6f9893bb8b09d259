"""Kubernetes as a place to run the Studio: any cluster with a GPU node (pool) and a kubeconfig."""

from __future__ import annotations

from collections.abc import Mapping

from components.platform import PlatformOf
from components.settings import PlatformName, StudioSettings

from . import studio
from .settings import KubernetesSettings


class KubernetesPlatform(PlatformOf[KubernetesSettings]):
    name = PlatformName.KUBERNETES
    unsupported: Mapping[str, str] = {
        "replicas": (
            "one Studio per claim: its songs, queue and model cache live on one ReadWriteOnce claim, so a stack "
            "runs 0 or 1 replica; run a second stack for a second Studio"
        ),
        "gpus": "one GPU per Studio: it generates one song at a time",
    }

    def __init__(self) -> None:
        super().__init__(KubernetesSettings, deploy=studio.deploy, stores=studio.stored_data)

    def notices(self, settings: StudioSettings) -> list[str]:
        k8s = self.own(settings)
        return [
            f"The Studio scales its own Deployment to zero after {k8s.idle_stop_minutes} idle minutes (never "
            f"during a song); wake it with: {studio.kubectl(k8s)} scale deployment/{k8s.name} --replicas=1"
            + (" or any request to its host (KEDA HTTP add-on)" if k8s.keda_http_add_on else "")
        ]


PLATFORM = KubernetesPlatform()
