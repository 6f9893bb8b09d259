"""The Studio's rollout, watched with a deadline: `pulumi up` returns once the claim is bound and the pod's
container runs (or the Deployment rests at zero), and fails with the reason when that cannot happen.

pulumi-kubernetes' own await is skipped for the Deployment, claim and Service (`pulumi.com/skipAwait`): it would
wait for readiness, which a first boot reaches only after filling about 26 GB of weights, and it reports a pod
that can never be placed as a silent wait until its timeout. This watch reads the claim, the newest
ReplicaSet's pods and their events, and says in words what blocks them: no node offering the GPU resource, an
autoscaler that will not add one, an image the nodes cannot pull, a storage class the cluster lacks. A pod the
scheduler cannot place fails after GRACE_S unless an autoscaler is adding a node; everything is bounded by
`rolloutMinutes`.

On destroy it names what deleting the namespace removes that the stack did not make, and a volume that
outlives its claim (reclaim policy Retain: still billed).
"""

from __future__ import annotations

import time
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, UpdateResult

from components.dynamic import progress
from components.dynamic.errors import ProviderError

from . import diagnose
from .cluster import Cluster, JsonObject, cluster
from .preflight import nodes_offering
from .provider import KubeProvider, owner_of

GRACE_S = 45.0
POLL_S = 2.0
INPUTS = (
    "context",
    "namespace",
    "deployment",
    "claim",
    "service",
    "service_type",
    "template_hash",
    "gpu_resource",
    "timeout_s",
    "owner",
    "create_namespace",
)
# What a namespace commonly holds, for naming what deleting it removes.
NAMESPACED = (
    ("api/v1", "pods"),
    ("api/v1", "persistentvolumeclaims"),
    ("api/v1", "services"),
    ("api/v1", "configmaps"),
    ("apis/apps/v1", "deployments"),
    ("apis/apps/v1", "statefulsets"),
    ("apis/batch/v1", "jobs"),
)
# Made in every namespace by Kubernetes itself.
BUILT_IN = frozenset({("configmaps", "kube-root-ca.crt")})


class Watch:
    def __init__(self, api: Cluster, inputs: dict[str, Any]) -> None:
        self.api = api
        self.inputs = inputs
        self.ns = inputs["namespace"]
        self.deadline = time.monotonic() + float(inputs["timeout_s"])
        self.unschedulable_since: dict[str, float] = {}
        self.said = ""

    def events(self, name: str) -> list[JsonObject]:
        return self.api.items(
            f"/api/v1/namespaces/{self.ns}/events", fieldSelector=f"involvedObject.name={name}"
        )

    def say(self, message: str) -> None:
        if message != self.said:
            progress.status(f"studio: {message}")
            self.said = message

    def run(self) -> dict[str, Any]:
        class_exists: bool | None = None
        while True:
            pvc = self.api.get(f"/api/v1/namespaces/{self.ns}/persistentvolumeclaims/{self.inputs['claim']}")
            if pvc is None:
                raise ProviderError(
                    f"the claim {self.ns}/{self.inputs['claim']} is gone; run pulumi up again"
                )
            storage_class = pvc.get("spec", {}).get("storageClassName")
            if (
                class_exists is None
                and storage_class
                and self.api.may("/apis/storage.k8s.io/v1/storageclasses")
            ):
                class_exists = (
                    self.api.get(f"/apis/storage.k8s.io/v1/storageclasses/{storage_class}") is not None
                )
            waiting = diagnose.claim(pvc, self.events(pvc["metadata"]["name"]), class_exists=class_exists)
            if waiting is not None and waiting.fatal:
                raise ProviderError(waiting.message)
            state = self.pods(claim_bound=waiting is None)
            if state is not None:
                return {
                    "state": state,
                    "volume": pvc.get("spec", {}).get("volumeName") or "",
                    **self.address(),
                }
            if waiting is not None:
                self.say(waiting.message)
            self.sleep()

    def pods(self, *, claim_bound: bool) -> str | None:
        """'running', 'starting' or 'asleep' once done; None while waiting (raises when waiting cannot help)."""
        path = f"/apis/apps/v1/namespaces/{self.ns}/deployments/{self.inputs['deployment']}"
        deployment = self.api.get(path)
        if deployment is None:
            raise ProviderError(
                f"the Deployment {self.ns}/{self.inputs['deployment']} is gone; run pulumi up again"
            )
        if deployment.get("spec", {}).get("replicas", 1) == 0:
            if claim_bound:
                return "asleep"
            return None
        status = deployment.get("status", {})
        if status.get("observedGeneration", 0) < deployment["metadata"].get("generation", 0):
            self.say("the Deployment controller is picking up the change")
            return None
        for pod in self.current_pods(deployment):
            name = pod["metadata"]["name"]
            scheduled = diagnose.condition(pod, "PodScheduled") or {}
            if scheduled.get("status") == "False":
                self.unschedulable_since.setdefault(name, time.monotonic())
            since = self.unschedulable_since.get(name)
            verdict = diagnose.pod(
                pod,
                self.events(name),
                gpu_resource=self.inputs["gpu_resource"],
                nodes_offering=nodes_offering(self.api, self.inputs["gpu_resource"]) if since else None,
                unschedulable_for_s=time.monotonic() - since if since else 0.0,
                grace_s=GRACE_S,
            )
            if verdict is not None and verdict.fatal:
                raise ProviderError(verdict.message)
            if verdict is not None:
                self.say(verdict.message)
                return None
            ready = (diagnose.condition(pod, "Ready") or {}).get("status") == "True"
            if claim_bound and not ready:
                return "starting"  # the container runs: a first boot fills the claim before it answers
            if claim_bound and status.get("availableReplicas", 0) >= 1:
                return "running"
            self.say("the Studio's pod runs; waiting for the Deployment to count it available")
            return None
        self.say("waiting for the Studio's pod to be created")
        return None

    def current_pods(self, deployment: JsonObject) -> list[JsonObject]:
        """Pods of the newest ReplicaSet (the current template), not ones still terminating."""
        uid = deployment["metadata"]["uid"]
        selector = ",".join(f"{k}={v}" for k, v in deployment["spec"]["selector"]["matchLabels"].items())
        sets = [
            rs
            for rs in self.api.items(
                f"/apis/apps/v1/namespaces/{self.ns}/replicasets", labelSelector=selector
            )
            if any(ref.get("uid") == uid for ref in rs["metadata"].get("ownerReferences") or [])
        ]
        if not sets:
            return []
        newest = max(sets, key=lambda rs: int(rs["metadata"].get("annotations", {}).get(REVISION, "0")))
        template_hash = newest["metadata"]["labels"].get("pod-template-hash", "")
        pods = self.api.items(
            f"/api/v1/namespaces/{self.ns}/pods",
            labelSelector=f"{selector},pod-template-hash={template_hash}",
        )
        return [p for p in pods if not p["metadata"].get("deletionTimestamp")]

    def address(self) -> dict[str, str]:
        if self.inputs["service_type"] != "LoadBalancer":
            return {"address": ""}
        path = f"/api/v1/namespaces/{self.ns}/services/{self.inputs['service']}"
        while True:
            found = self.api.get(path) or {}
            for entry in found.get("status", {}).get("loadBalancer", {}).get("ingress") or []:
                if entry.get("ip") or entry.get("hostname"):
                    return {"address": str(entry.get("ip") or entry.get("hostname"))}
            self.say("waiting for the load balancer's address")
            if time.monotonic() > self.deadline:
                raise ProviderError(
                    f"the Service {self.ns}/{self.inputs['service']} (type LoadBalancer) got no address in "
                    f"{float(self.inputs['timeout_s']) / 60:.0f} min: does this cluster have a load-balancer "
                    "controller? kubectl describe service -n "
                    f"{self.ns} {self.inputs['service']}; or use serviceType ClusterIP with an Ingress"
                )
            time.sleep(POLL_S)

    def sleep(self) -> None:
        if time.monotonic() > self.deadline:
            raise ProviderError(
                f"the Studio was not running after {float(self.inputs['timeout_s']) / 60:.0f} min "
                f"(songgen-studio:rolloutMinutes): {self.said or 'no progress'}. Look with: kubectl describe pods "
                f"-n {self.ns}"
            )
        time.sleep(POLL_S)


REVISION = "deployment.kubernetes.io/revision"
DONE = {
    "asleep": "studio: the Deployment rests at zero replicas; it starts with the next wake",
    "starting": "studio: the pod runs; a first boot fills the claim (about 26 GB) before the Studio answers",
    "running": "studio: the Studio's pod runs and is ready",
}


def departure(api: Cluster, inputs: dict[str, Any]) -> list[str]:
    """What a destroy removes, or leaves, beyond what the state lists (said as warnings)."""
    said = []
    ns = inputs["namespace"]
    pvc = api.get(f"/api/v1/namespaces/{ns}/persistentvolumeclaims/{inputs['claim']}")
    volume = (pvc or {}).get("spec", {}).get("volumeName")
    if volume and api.may("/api/v1/persistentvolumes"):
        pv = api.get(f"/api/v1/persistentvolumes/{volume}") or {}
        if pv.get("spec", {}).get("persistentVolumeReclaimPolicy") == "Retain":
            size = pv.get("spec", {}).get("capacity", {}).get("storage", "?")
            said.append(
                f"the volume {volume} ({size}) that held the claim {inputs['claim']} stays after the claim is "
                f"deleted (its reclaim policy is Retain), with the songs and the model cache, and is still "
                f"billed: kubectl delete persistentvolume {volume} once you no longer need them"
            )
    if inputs["create_namespace"]:
        foreign = [
            f"{plural[:-1]}/{obj['metadata']['name']}"
            for group, plural in NAMESPACED
            for obj in api.items(f"/{group}/namespaces/{ns}/{plural}")
            if owner_of(obj) != inputs["owner"]
            and not obj["metadata"].get("ownerReferences")
            and (plural, obj["metadata"]["name"]) not in BUILT_IN
        ]
        if foreign:
            said.append(
                f"deleting the namespace {ns} also removes what this stack did not make in it: {', '.join(foreign)}"
            )
    return said


class RolloutProvider(KubeProvider):
    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [key for key in INPUTS if olds.get(key) != news.get(key)]
        return DiffResult(changes=bool(changed), replaces=[], stables=None, delete_before_replace=None)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult("rollout", {**props, **self._watch(props)})

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult({**news, **self._watch(news)})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        try:
            with cluster(props.get("context")) as api:
                for line in departure(api, props):
                    progress.warn(line)
        except ProviderError as err:  # naming is a courtesy: it must never block a destroy
            progress.warn(f"could not look at what the destroy leaves: {err}")

    @staticmethod
    def _watch(inputs: dict[str, Any]) -> dict[str, Any]:
        with cluster(inputs.get("context")) as api:
            outcome = Watch(api, inputs).run()
        progress.info(DONE[outcome["state"]])
        return outcome


class Rollout(pulumi.dynamic.Resource, module="kubernetes", name="Rollout"):
    state: pulumi.Output[str]
    volume: pulumi.Output[str]
    address: pulumi.Output[str]

    def __init__(
        self, resource_name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(
            RolloutProvider(), resource_name, {**props, "state": None, "volume": None, "address": None}, opts
        )
