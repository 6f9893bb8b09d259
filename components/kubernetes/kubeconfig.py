"""Where a stack's kubeconfig comes from, and how to talk to the cluster it names, for our own checks.

The kubeconfig is the stack's secret setting `songgen-studio:kubeconfig` when set, else the file(s) the
KUBECONFIG environment variable lists (merged the way kubectl merges them: the first file to name a context,
cluster or user wins), else ~/.kube/config. The pulumi-kubernetes provider gets the same text, as a secret.

`connect()` turns one context into what an HTTP client needs: the server, a TLS context and the auth header.
It understands what GKE, EKS and most clusters hand out: bearer tokens (inline or a file), client certificates
(inline or files), and exec credential plugins (gke-gcloud-auth-plugin, aws eks get-token, kubelogin), run with
a time limit. Nothing here logs a credential.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

KUBECONFIG_ENV = "KUBECONFIG"
DEFAULT_PATH = Path.home() / ".kube" / "config"
EXEC_TIMEOUT_S = 30.0


class KubeconfigError(Exception):
    """The kubeconfig is missing or unusable; the message says which and what to do."""


def text_from_environment(env: Mapping[str, str] | None = None) -> str | None:
    """The kubeconfig KUBECONFIG (or ~/.kube/config) points at, as one document; None when there is none."""
    env = os.environ if env is None else env
    listed = [Path(p).expanduser() for p in env.get(KUBECONFIG_ENV, "").split(os.pathsep) if p.strip()]
    paths = (
        [p for p in listed if p.is_file()] if listed else ([DEFAULT_PATH] if DEFAULT_PATH.is_file() else [])
    )
    if not paths:
        return None
    if len(paths) == 1:
        return paths[0].read_text()
    return yaml.safe_dump(merge([_load(p.read_text(), str(p)) for p in paths]), sort_keys=False)


def merge(documents: list[dict[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {"apiVersion": "v1", "kind": "Config"}
    for section in ("clusters", "contexts", "users"):
        seen: dict[str, Any] = {}
        for document in documents:
            for entry in document.get(section) or []:
                seen.setdefault(entry.get("name"), entry)
        merged[section] = list(seen.values())
    current = next((d["current-context"] for d in documents if d.get("current-context")), None)
    if current:
        merged["current-context"] = current
    return merged


def _load(text: str, where: str) -> dict[str, Any]:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise KubeconfigError(
            f"the kubeconfig from {where} is not valid YAML ({type(err).__name__})"
        ) from None
    if not isinstance(document, dict):
        raise KubeconfigError(
            f"the kubeconfig from {where} is not a kubeconfig (no clusters, contexts, users)"
        )
    return document


@dataclass
class Connection:
    """One context of a kubeconfig, ready for an HTTP client."""

    context: str
    server: str
    tls: ssl.SSLContext | bool
    headers: dict[str, str] = field(default_factory=dict)


def connect(text: str, context: str | None, where: str) -> Connection:
    """The server, TLS settings and credentials of `context` (default: the current context) in `text`."""
    document = _load(text, where)
    name = context or document.get("current-context")
    if not name:
        raise KubeconfigError(
            f"the kubeconfig from {where} has no current-context; set songgen-studio:kubeContext"
        )
    ctx = _named(document, "contexts", name, where).get("context") or {}
    cluster = _named(document, "clusters", ctx.get("cluster"), where).get("cluster") or {}
    user = _named(document, "users", ctx.get("user"), where).get("user") or {} if ctx.get("user") else {}
    server = str(cluster.get("server") or "").rstrip("/")
    if not server.startswith(("https://", "http://")):
        raise KubeconfigError(f"context {name!r} in the kubeconfig from {where} has no https:// server")
    headers: dict[str, str] = {}
    cert: tuple[bytes, bytes] | None = None
    token = user.get("token")
    if user.get("tokenFile"):
        token = Path(user["tokenFile"]).expanduser().read_text().strip()
    if user.get("exec"):
        token, cert = _exec_credential(user["exec"], cluster, name)
    elif user.get("auth-provider"):
        provider = (user["auth-provider"] or {}).get("name", "?")
        raise KubeconfigError(
            f"context {name!r} authenticates with the auth-provider {provider!r}, which Kubernetes removed in "
            "1.26; regenerate the kubeconfig with the cloud's CLI (it uses an exec plugin)"
        )
    if token:
        headers["Authorization"] = f"Bearer {token}"
    elif user.get("username") and user.get("password"):
        basic = base64.b64encode(f"{user['username']}:{user['password']}".encode()).decode()
        headers["Authorization"] = f"Basic {basic}"
    if cert is None:
        cert = _client_certificate(user)
    return Connection(context=name, server=server, tls=_tls(cluster, cert), headers=headers)


def _named(document: dict[str, Any], section: str, name: object, where: str) -> dict[str, Any]:
    for entry in document.get(section) or []:
        if entry.get("name") == name:
            return dict(entry)
    raise KubeconfigError(f"the kubeconfig from {where} has no {section[:-1]} named {name!r}")


def _data_or_file(owner: Mapping[str, Any], key: str) -> bytes | None:
    if owner.get(f"{key}-data"):
        return base64.b64decode(owner[f"{key}-data"])
    if owner.get(key):
        return Path(owner[key]).expanduser().read_bytes()
    return None


def _client_certificate(user: Mapping[str, Any]) -> tuple[bytes, bytes] | None:
    cert = _data_or_file(user, "client-certificate")
    key = _data_or_file(user, "client-key")
    return (cert, key) if cert and key else None


def _tls(cluster: Mapping[str, Any], cert: tuple[bytes, bytes] | None) -> ssl.SSLContext | bool:
    if not str(cluster.get("server", "")).startswith("https://"):
        return False
    if cluster.get("insecure-skip-tls-verify") and cert is None:
        return False
    ca = _data_or_file(cluster, "certificate-authority")
    context = ssl.create_default_context(cadata=ca.decode() if ca else None)
    if cluster.get("insecure-skip-tls-verify"):
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if cert is not None:
        # The ssl module loads keys from files only: a private directory that is gone right after.
        with tempfile.TemporaryDirectory(prefix="songgen-kube-") as scratch:
            cert_file, key_file = Path(scratch) / "cert.pem", Path(scratch) / "key.pem"
            for path, data in ((cert_file, cert[0]), (key_file, cert[1])):
                path.touch(mode=0o600)
                path.write_bytes(data)
            context.load_cert_chain(cert_file, key_file)
    return context


def _exec_credential(
    spec: Mapping[str, Any], cluster: Mapping[str, Any], context: str
) -> tuple[str | None, tuple[bytes, bytes] | None]:
    """Run the exec plugin (client.authentication.k8s.io) and read its ExecCredential."""
    command = str(spec.get("command") or "")
    env = {**os.environ, **{e["name"]: e["value"] for e in spec.get("env") or []}}
    api_version = spec.get("apiVersion", "client.authentication.k8s.io/v1")
    info: dict[str, Any] = {
        "apiVersion": api_version,
        "kind": "ExecCredential",
        "spec": {"interactive": False},
    }
    if spec.get("provideClusterInfo"):
        info["spec"]["cluster"] = {"server": cluster.get("server")}
    env["KUBERNETES_EXEC_INFO"] = json.dumps(info)
    try:
        done = subprocess.run(
            [command, *[str(a) for a in spec.get("args") or []]],
            env=env,
            capture_output=True,
            text=True,
            timeout=EXEC_TIMEOUT_S,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        hint = spec.get("installHint") or "install it, or put it on PATH"
        raise KubeconfigError(
            f"context {context!r} needs the credential plugin {command!r}: {hint}"
        ) from None
    except subprocess.TimeoutExpired:
        raise KubeconfigError(
            f"the credential plugin {command!r} of context {context!r} gave no answer in {EXEC_TIMEOUT_S:.0f} s"
        ) from None
    if done.returncode != 0:
        said = done.stderr.strip().splitlines()[-1:] or ["(nothing on stderr)"]
        raise KubeconfigError(
            f"the credential plugin {command!r} of context {context!r} failed (exit {done.returncode}): {said[0][:300]}"
        )
    try:
        status = json.loads(done.stdout).get("status") or {}
    except (ValueError, AttributeError):
        raise KubeconfigError(f"the credential plugin {command!r} did not print an ExecCredential") from None
    cert = None
    if status.get("clientCertificateData") and status.get("clientKeyData"):
        cert = (status["clientCertificateData"].encode(), status["clientKeyData"].encode())
    return status.get("token"), cert
