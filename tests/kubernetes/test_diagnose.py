"""Why a claim or pod waits, said in words: the states the kubelet, scheduler and autoscaler report.

The image-pull and crash cases cannot happen under kwok (no container ever runs), so they are proved here on
the objects a kubelet reports."""

from __future__ import annotations

from typing import Any

from components.kubernetes import diagnose

UNSCHEDULABLE = "0/3 nodes are available: 3 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available"


def pod(status: dict[str, Any]) -> dict[str, Any]:
    return {
        "metadata": {"name": "studio-7d9-abc", "namespace": "songgen-studio-dev"},
        "spec": {"containers": [{"image": "ghcr.io/me/studio:v1"}]},
        "status": status,
    }


def pending(message: str = UNSCHEDULABLE) -> dict[str, Any]:
    return pod(
        {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "message": message}]}
    )


def event(reason: str, message: str = "") -> dict[str, Any]:
    return {"reason": reason, "message": message, "lastTimestamp": "2026-11-26T10:00:00Z"}


def verdict(obj: dict[str, Any], events: list[dict[str, Any]] = (), **kw: Any) -> diagnose.Verdict | None:  # type: ignore[assignment]
    options = {
        "gpu_resource": "nvidia.com/gpu",
        "nodes_offering": 0,
        "unschedulable_for_s": 60.0,
        "grace_s": 45.0,
    }
    return diagnose.pod(obj, list(events), **{**options, **kw})


def test_a_pod_no_node_can_take_fails_after_the_grace_naming_the_resource_and_the_scheduler() -> None:
    found = verdict(pending())
    assert found is not None
    assert found.fatal
    assert "no node of this cluster offers nvidia.com/gpu, and no autoscaler is adding one" in found.message
    assert UNSCHEDULABLE in found.message
    early = verdict(pending(), unschedulable_for_s=10.0)
    assert early is not None
    assert not early.fatal


def test_a_scale_up_in_progress_is_waited_for_and_a_refused_one_fails_at_once() -> None:
    growing = verdict(pending(), [event("TriggeredScaleUp", "pod triggered scale-up: [{gpu-pool 0->1}]")])
    assert growing is not None
    assert not growing.fatal
    assert "autoscaler is adding a node" in growing.message
    refused = verdict(
        pending(),
        [event("NotTriggerScaleUp", "pod didn't trigger scale-up: 1 max node group size reached")],
        unschedulable_for_s=1.0,
    )
    assert refused is not None
    assert refused.fatal
    assert "max node group size reached" in refused.message


def test_an_image_the_nodes_cannot_pull_is_said_with_the_kubelets_words() -> None:
    found = verdict(
        pod(
            {
                "phase": "Pending",
                "containerStatuses": [
                    {
                        "image": "ghcr.io/me/studio:v1",
                        "state": {
                            "waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image"}
                        },
                    }
                ],
            }
        )
    )
    assert found is not None
    assert found.fatal
    assert found.message.startswith(
        "the cluster cannot pull the image ghcr.io/me/studio:v1 (ImagePullBackOff"
    )


def test_a_container_that_keeps_exiting_points_at_its_previous_log() -> None:
    found = verdict(
        pod(
            {
                "phase": "Running",
                "containerStatuses": [
                    {
                        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                        "lastState": {"terminated": {"exitCode": 3, "reason": "Error"}},
                    }
                ],
            }
        )
    )
    assert found is not None
    assert found.fatal
    assert "exit code 3" in found.message
    assert "kubectl logs -n songgen-studio-dev studio-7d9-abc --previous" in found.message


def test_a_running_container_is_done_even_before_the_studio_answers() -> None:
    assert verdict(pod({"phase": "Running", "containerStatuses": [{"state": {"running": {}}}]})) is None


def claim(phase: str, storage_class: str | None = "standard-rwo") -> dict[str, Any]:
    return {
        "metadata": {"name": "studio-data"},
        "spec": {"storageClassName": storage_class},
        "status": {"phase": phase},
    }


def test_a_claim_waiting_for_its_first_consumer_is_not_a_problem() -> None:
    assert diagnose.claim(claim("Pending"), [event("WaitForFirstConsumer")], class_exists=True) is None
    assert diagnose.claim(claim("Bound"), [], class_exists=True) is None


def test_a_claim_without_any_class_or_matching_volume_says_which_setting_to_set() -> None:
    found = diagnose.claim(
        claim("Pending", None),
        [
            event(
                "FailedBinding", "no persistent volumes available for this claim and no storage class is set"
            )
        ],
        class_exists=None,
    )
    assert found is not None
    assert found.fatal
    assert "has no default storage class and songgen-studio:storageClass is unset" in found.message
