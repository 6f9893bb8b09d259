"""Why the Studio's claim or pod is not there yet, in words a person can act on (pure functions of what the
API reports: objects and their events)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

JsonObject = dict[str, Any]

IMAGE_PULL_REASONS = frozenset({"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"})
CONFIG_REASONS = frozenset({"CreateContainerConfigError", "CreateContainerError", "RunContainerError"})


@dataclass(frozen=True)
class Verdict:
    """`fatal`: waiting longer will not help; otherwise `message` says what is being waited for."""

    fatal: bool
    message: str


def condition(obj: JsonObject, kind: str) -> JsonObject | None:
    for entry in obj.get("status", {}).get("conditions") or []:
        if entry.get("type") == kind:
            return dict(entry)
    return None


def latest(events: list[JsonObject], *reasons: str) -> JsonObject | None:
    matching = [e for e in events if e.get("reason") in reasons]
    return max(matching, key=_event_time) if matching else None


def _event_time(event: JsonObject) -> str:
    return str(event.get("lastTimestamp") or event.get("eventTime") or event.get("firstTimestamp") or "")


def claim(pvc: JsonObject, events: list[JsonObject], *, class_exists: bool | None) -> Verdict | None:
    """None when the claim is bound or will bind once its pod is placed (WaitForFirstConsumer)."""
    phase = pvc.get("status", {}).get("phase")
    if phase == "Bound":
        return None
    name = pvc["metadata"]["name"]
    storage_class = pvc.get("spec", {}).get("storageClassName")
    if phase == "Lost":
        return Verdict(True, f"the claim {name} lost its volume (phase Lost): kubectl describe pvc {name}")
    if storage_class and class_exists is False:
        return Verdict(
            True,
            f"the claim {name} asks for the storage class {storage_class!r}, which this cluster does not have. "
            "List the classes with kubectl get storageclass and set songgen-studio:storageClass to one of them",
        )
    if latest(events, "WaitForFirstConsumer"):
        return None
    failed = latest(events, "ProvisioningFailed", "FailedBinding")
    if failed is not None:
        said = str(failed.get("message", ""))
        if not storage_class and "no storage class is set" in said:
            return Verdict(
                True,
                f"the claim {name} cannot bind: this cluster has no default storage class and "
                "songgen-studio:storageClass is unset, and no volume matches it. Set storageClass to one of "
                "kubectl get storageclass",
            )
        return Verdict(False, f"the claim {name} is not bound yet: {said}")
    return Verdict(False, f"the claim {name} is {phase or 'Pending'}")


def pod(
    obj: JsonObject,
    events: list[JsonObject],
    *,
    gpu_resource: str,
    nodes_offering: int | None,
    unschedulable_for_s: float,
    grace_s: float,
) -> Verdict | None:
    """None when the pod's container has started (the Studio fills its claim, then answers)."""
    name = obj["metadata"]["name"]
    for status in obj.get("status", {}).get("containerStatuses") or []:
        if "running" in (status.get("state") or {}):
            return None
        waiting = status.get("state", {}).get("waiting") or {}
        reason = waiting.get("reason", "")
        said = waiting.get("message", "")
        if reason in IMAGE_PULL_REASONS:
            image = status.get("image") or _image(obj)
            return Verdict(
                True,
                f"the cluster cannot pull the image {image} ({reason}: {said}). Check the reference, that the "
                "registry lets the cluster's nodes pull it (a public image, or node credentials for a private "
                "registry), and that it was pushed",
            )
        if reason == "CrashLoopBackOff":
            last = status.get("lastState", {}).get("terminated") or {}
            return Verdict(
                True,
                f"the Studio's container keeps exiting (exit code {last.get('exitCode', '?')}, "
                f"{last.get('reason', 'no reason given')}): kubectl logs -n {obj['metadata'].get('namespace')} "
                f"{name} --previous",
            )
        if reason in CONFIG_REASONS:
            return Verdict(True, f"the Studio's container cannot be created ({reason}: {said})")
    scheduled = condition(obj, "PodScheduled")
    if scheduled is not None and scheduled.get("status") == "False":
        return _unschedulable(
            str(scheduled.get("message", "")),
            events,
            gpu_resource,
            nodes_offering,
            unschedulable_for_s,
            grace_s,
        )
    phase = obj.get("status", {}).get("phase", "Pending")
    if phase in ("Failed", "Succeeded"):
        return Verdict(True, f"the pod {name} ended ({phase}: {obj.get('status', {}).get('message', '')})")
    return Verdict(False, f"the pod {name} is {phase}: the container is being created")


def _unschedulable(
    said: str,
    events: list[JsonObject],
    gpu_resource: str,
    nodes_offering: int | None,
    waited_s: float,
    grace_s: float,
) -> Verdict:
    scheduler = f'(the scheduler: "{said}")'
    refused = latest(events, "NotTriggerScaleUp")
    if refused is not None:
        return Verdict(
            True,
            f"the Studio's pod cannot be placed and the cluster autoscaler will not add a node for it: "
            f'"{refused.get("message", "")}" {scheduler}. Check that a GPU node pool offering {gpu_resource} '
            "can grow (its maximum size, quota) and matches songgen-studio:nodeSelector and tolerations",
        )
    if latest(events, "TriggeredScaleUp") is not None:
        return Verdict(False, f"the cluster autoscaler is adding a node for the Studio's pod {scheduler}")
    if waited_s < grace_s:
        return Verdict(False, f"the Studio's pod waits for a node {scheduler}")
    if nodes_offering == 0:
        return Verdict(
            True,
            f"the Studio's pod stays Pending: no node of this cluster offers {gpu_resource}, and no autoscaler "
            f"is adding one {scheduler}. Add a GPU node pool (with the NVIDIA device plugin, which advertises "
            f"{gpu_resource}), or set songgen-studio:gpuResource to the name your GPU nodes advertise "
            "(kubectl describe nodes | grep -i gpu)",
        )
    return Verdict(
        True,
        f"the Studio's pod stays Pending and no autoscaler is adding a node {scheduler}. Nodes offering "
        f"{gpu_resource} may be busy, or not match songgen-studio:nodeSelector and tolerations, or lack the "
        "memory and CPUs asked for (memoryGb, cpus)",
    )


def _image(obj: JsonObject) -> str:
    containers = obj.get("spec", {}).get("containers") or [{}]
    return str(containers[0].get("image", "?"))
