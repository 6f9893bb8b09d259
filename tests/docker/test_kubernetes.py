"""Kubernetes: scale the Studio's own Deployment to zero after idling, never during a song; failures are told."""

from __future__ import annotations

import http.client
import itertools
import json
import secrets
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.docker.conftest import Boot, Launch, process_env, write_state
from tests.docker.fake_kube_api import Certificates, Deployment, KubeAPI
from tests.docker.process import seconds_as_minutes

NAMESPACE, DEPLOYMENT = "songgen", "studio"
SCALE_PATH = f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments/{DEPLOYMENT}/scale"


@pytest.fixture
def token() -> str:
    return secrets.token_urlsafe(24)


@pytest.fixture
def cluster(kube_certificates: Certificates, token: str) -> Iterator[KubeAPI]:
    with KubeAPI(kube_certificates, token) as api:
        api.deployments[(NAMESPACE, DEPLOYMENT)] = Deployment(replicas=1, running=1)
        yield api


@pytest.fixture
def service_account(tmp_path: Path, kube_certificates: Certificates, token: str) -> Path:
    account = tmp_path / "serviceaccount"
    account.mkdir()
    (account / "token").write_text(token)
    (account / "ca.crt").write_bytes(kube_certificates.ca.read_bytes())
    (account / "namespace").write_text(NAMESPACE)
    return account


def request(
    api: KubeAPI, ca: Path, method: str, path: str, body: bytes = b"", **headers: str
) -> tuple[int, dict[str, Any]]:
    context = ssl.create_default_context(cafile=str(ca))
    conn = http.client.HTTPSConnection("127.0.0.1", api.port, timeout=5, context=context)
    try:
        conn.request(method, path, body=body or None, headers=headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def test_the_stand_in_answers_as_the_kubernetes_api_documents(
    cluster: KubeAPI, kube_certificates: Certificates, token: str
) -> None:
    ca, auth = kube_certificates.ca, f"Bearer {token}"
    merge = {"Authorization": auth, "Content-Type": "application/merge-patch+json"}
    zero = b'{"spec":{"replicas":0}}'

    status, body = request(
        cluster, ca, "PATCH", SCALE_PATH, zero, **{**merge, "Authorization": "Bearer nope"}
    )
    assert (status, body["kind"], body["reason"]) == (401, "Status", "Unauthorized")
    status, body = request(cluster, ca, "POST", SCALE_PATH, zero, **merge)
    assert (status, body["reason"]) == (405, "MethodNotAllowed")
    status, body = request(cluster, ca, "PATCH", SCALE_PATH.replace(DEPLOYMENT, "other"), zero, **merge)
    assert (status, body["message"]) == (404, 'deployments.apps "other" not found')
    status, body = request(
        cluster, ca, "PATCH", SCALE_PATH, zero, Authorization=auth, **{"Content-Type": "application/json"}
    )
    assert (status, body["reason"]) == (415, "UnsupportedMediaType")
    status, body = request(cluster, ca, "PATCH", SCALE_PATH, b'{"spec":{"replicas":-1}}', **merge)
    assert (status, body["reason"]) == (422, "Invalid")

    cluster.may_scale = False
    status, body = request(cluster, ca, "PATCH", SCALE_PATH, zero, **merge)
    assert (status, body["reason"]) == (403, "Forbidden")
    assert 'cannot patch resource "deployments/scale" in API group "apps"' in body["message"]
    assert cluster.deployments[(NAMESPACE, DEPLOYMENT)].replicas == 1, "nothing changed so far"

    cluster.may_scale = True
    status, body = request(cluster, ca, "PATCH", SCALE_PATH, zero, **merge)
    assert (status, body["kind"], body["apiVersion"]) == (200, "Scale", "autoscaling/v1")
    assert body["spec"] == {}, "replicas: 0 is omitted, as the API's omitempty does"
    assert body["status"]["replicas"] == 1, "the pod still runs until the controller acts"
    assert cluster.deployments[(NAMESPACE, DEPLOYMENT)].replicas == 0


def test_scale_failures_back_off_doubling_to_a_bound_and_start_afresh_after_work(boot: Boot) -> None:
    now = [0.0]
    outcomes = [boot.kube.ScaleOutcome(False, 403, "forbidden (HTTP 403): ...")] * 12
    calls: list[float] = []

    def scale(_target: object) -> object:
        calls.append(now[0])
        return outcomes.pop(0) if outcomes else boot.kube.ScaleOutcome(True, 200, "scaled")

    target = boot.kube.ScaleTarget("10.0.0.1", 443, NAMESPACE, DEPLOYMENT, Path("t"), Path("c"))
    policy = boot.idle_policy.KubernetesScaleToZero(target, 10.0, scale, clock=lambda: now[0])
    policy.arm(60.0)
    idle = boot.idle_stop.StudioState(False, "nothing running")
    while now[0] < 3600:
        assert policy.idle(now[0], idle) is False, "the Studio keeps serving"
        now[0] += 1.0
    gaps = [b - a for a, b in itertools.pairwise(calls)]
    assert gaps[:6] == [10.0, 20.0, 40.0, 80.0, 160.0, 320.0]
    assert max(gaps) <= boot.idle_policy.SCALE_RETRY_MAX_SECONDS

    calls.clear()
    policy.busy(boot.idle_stop.StudioState(True, "generation g1 is processing"))
    policy.idle(0.0, idle)
    assert calls == [now[0]], "a new idle period tries at once"


def test_kubernetes_scales_its_deployment_to_zero_after_idling_but_never_during_a_song(
    launch: Launch,
    base_env: dict[str, str],
    app_dir: Path,
    cluster: KubeAPI,
    service_account: Path,
    token: str,
) -> None:
    idle = 1.5
    write_state(app_dir, generations=[{"id": "g1", "status": "processing"}])
    run = launch(kube_env(base_env, cluster, service_account, idle), app_dir)
    run.wait_healthy()
    time.sleep(idle * 2)
    assert cluster.snapshot() == [], "no scale while a song generates"

    write_state(app_dir, generations=[{"id": "g1", "status": "completed"}], queue=[{"id": "q1"}])
    time.sleep(idle * 2)
    assert cluster.snapshot() == [], "no scale while a song waits"

    write_state(app_dir, generations=[{"id": "g1", "status": "completed"}])
    cleared = time.monotonic()
    scaled = run.wait_for("the scale request", lambda: len(cluster.snapshot()) > 0)
    # The idle period runs from the watcher's last busy poll, which may precede the change by a poll.
    assert scaled - cleared >= idle - 0.5, "only after a whole idle period"
    (call,) = cluster.snapshot()
    assert (call.method, call.path, call.status) == ("PATCH", SCALE_PATH, 200)
    assert call.content_type == "application/merge-patch+json"
    assert call.authorization == f"Bearer {token}"
    assert json.loads(call.body) == {"spec": {"replicas": 0}}
    assert cluster.deployments[(NAMESPACE, DEPLOYMENT)].replicas == 0

    run.wait_for_line("serving until Kubernetes stops this pod")
    time.sleep(0.5)
    assert run.running(), "keeps running until the pod is terminated"
    assert run.signals() == []
    assert run.terminate() == 0, "SIGTERM from the kubelet: a clean stop"
    assert run.signals() == ["SIGTERM"]
    assert token not in run.output()


def test_a_forbidden_scale_is_logged_clearly_and_retried_while_the_studio_keeps_serving(
    launch: Launch, base_env: dict[str, str], app_dir: Path, cluster: KubeAPI, service_account: Path
) -> None:
    cluster.may_scale = False
    write_state(app_dir)
    run = launch(kube_env(base_env, cluster, service_account, 0.5, SONGGEN_K8S_RETRY_SECONDS="0.3"), app_dir)
    run.wait_healthy()
    run.wait_for("three refused attempts", lambda: len(cluster.snapshot()) >= 3)
    out = run.output()
    assert "forbidden (HTTP 403)" in out
    assert 'resources ["deployments/scale"], verbs ["patch"]' in out, "says which Role rule is missing"
    assert "cannot patch resource" in out, "and what Kubernetes said"
    assert "Retrying in 0.3 s" in out
    assert "Retrying in 0.6 s" in out, "backing off"
    assert run.running()
    assert run.signals() == [], "the Studio was never touched"

    cluster.may_scale = True
    run.wait_for("the scale", lambda: cluster.deployments[(NAMESPACE, DEPLOYMENT)].replicas == 0)
    assert run.terminate() == 0


def kube_env(
    base_env: dict[str, str], cluster: KubeAPI, service_account: Path, idle: float, **extra: str
) -> dict[str, str]:
    return process_env(
        base_env,
        SONGGEN_PLATFORM="kubernetes",
        KUBERNETES_SERVICE_HOST="127.0.0.1",
        KUBERNETES_SERVICE_PORT=str(cluster.port),
        SONGGEN_K8S_DEPLOYMENT=DEPLOYMENT,
        SONGGEN_K8S_SERVICEACCOUNT_DIR=str(service_account),
        SONGGEN_IDLE_STOP_MINUTES=seconds_as_minutes(idle),
        **extra,
    )
