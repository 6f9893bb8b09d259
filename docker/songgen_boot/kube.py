"""Kubernetes: scale this Studio's own Deployment to zero through the in-cluster API, standard library only.

One request: ``PATCH /apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale`` with the merge
patch ``{"spec":{"replicas":0}}``, authenticated with the pod's service-account token and checked
against the cluster's CA, both at the standard paths. The token file is read for every request
because the kubelet rotates it. Answers are turned into one sentence a person can act on (a 403 says
which Role rule is missing); nothing here raises once the target is resolved.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import ssl
import urllib.parse
from pathlib import Path

from .config import KubernetesSettings
from .errors import ConfigError

SCALE_TO_ZERO = b'{"spec":{"replicas":0}}'
MERGE_PATCH = "application/merge-patch+json"


@dataclasses.dataclass(frozen=True)
class ScaleTarget:
    host: str
    port: int
    namespace: str
    deployment: str
    token_path: Path
    ca_path: Path

    @property
    def path(self) -> str:
        ns, name = (urllib.parse.quote(part, safe="") for part in (self.namespace, self.deployment))
        return f"/apis/apps/v1/namespaces/{ns}/deployments/{name}/scale"

    @property
    def server(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{self.port}"

    @property
    def name(self) -> str:
        return f"deployment {self.namespace}/{self.deployment}"


@dataclasses.dataclass(frozen=True)
class ScaleOutcome:
    ok: bool
    status: int | None
    message: str


def resolve_target(settings: KubernetesSettings) -> ScaleTarget:
    """The Deployment to scale and the credentials to do it; a missing piece names its variable."""
    account = settings.service_account_dir
    namespace = settings.namespace
    if namespace is None:
        try:
            namespace = (account / "namespace").read_text(encoding="utf-8").strip()
        except OSError:
            namespace = ""
        if not namespace:
            raise ConfigError(
                f"SONGGEN_K8S_NAMESPACE is unset and {account / 'namespace'} cannot be read: set it, or "
                f"mount the service account (SONGGEN_K8S_SERVICEACCOUNT_DIR)"
            )
    for name in ("token", "ca.crt"):
        if not (account / name).is_file():
            raise ConfigError(
                f"SONGGEN_K8S_SERVICEACCOUNT_DIR={account} has no {name}: the pod needs its service-account "
                f"token mounted (automountServiceAccountToken) to scale its Deployment"
            )
    return ScaleTarget(
        host=settings.api_host,
        port=settings.api_port,
        namespace=namespace,
        deployment=settings.deployment,
        token_path=account / "token",
        ca_path=account / "ca.crt",
    )


def scale_to_zero(target: ScaleTarget, timeout: float) -> ScaleOutcome:
    try:
        token = target.token_path.read_text(encoding="utf-8").strip()
        context = ssl.create_default_context(cafile=str(target.ca_path))
    except (OSError, ssl.SSLError) as err:
        return ScaleOutcome(False, None, f"cannot read the service account's token or CA ({err}).")
    connection = http.client.HTTPSConnection(target.host, target.port, timeout=timeout, context=context)
    try:
        connection.request(
            "PATCH",
            target.path,
            body=SCALE_TO_ZERO,
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": MERGE_PATCH,
                "Accept": "application/json",
                "User-Agent": "songgen-entrypoint/1",
            },
        )
        response = connection.getresponse()
        body = response.read(64 * 1024)
    except (OSError, http.client.HTTPException) as err:
        return ScaleOutcome(
            False, None, f"could not reach the API server at {target.server} ({type(err).__name__}: {err})."
        )
    finally:
        connection.close()
    return explain(response.status, body, target)


def explain(status: int, body: bytes, target: ScaleTarget) -> ScaleOutcome:
    said = _status_message(body)
    quoted = f' Kubernetes said: "{said}"' if said else ""
    if 200 <= status < 300:
        replicas = _spec_replicas(body)
        return ScaleOutcome(True, status, f"{target.name} scaled to {replicas} replicas")
    if status == 403:
        message = (
            f"forbidden (HTTP 403): the pod's service account may not scale {target.name}. Bind it to a "
            f'Role in namespace {target.namespace} with apiGroups ["apps"], resources ["deployments/scale"], '
            f'verbs ["patch"] (resourceNames ["{target.deployment}"]).{quoted}'
        )
    elif status == 401:
        message = f"unauthorized (HTTP 401): the API server refused the service-account token.{quoted}"
    elif status == 404:
        message = (
            f"not found (HTTP 404): no {target.name}; check SONGGEN_K8S_DEPLOYMENT and "
            f"SONGGEN_K8S_NAMESPACE.{quoted}"
        )
    else:
        message = f"HTTP {status} from {target.server}.{quoted}"
    return ScaleOutcome(False, status, message)


def _status_message(body: bytes) -> str:
    """The message of a Kubernetes Status object, or the start of any other body."""
    try:
        data = json.loads(body)
    except ValueError:
        return body[:200].decode("utf-8", "replace").strip()
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return str(data["message"])
    return ""


def _spec_replicas(body: bytes) -> str:
    try:
        data = json.loads(body)
        return str(data["spec"]["replicas"])
    except (ValueError, KeyError, TypeError):
        return "0"
