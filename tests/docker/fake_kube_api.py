"""A stand-in for the Kubernetes API server's Deployment ``scale`` subresource, over TLS on 127.0.0.1.

Only ``/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale`` exists. Requests are checked
in the API server's order and answered as the Kubernetes API documents, errors as ``Status`` objects:

- no or a wrong bearer token: 401 Unauthorized;
- another path: 404 NotFound; a method other than GET, PUT or PATCH on the scale: 405 MethodNotAllowed;
- ``may_scale`` off (the service account's Role lacks ``patch`` on ``deployments/scale``): 403 Forbidden;
- an unknown Deployment: 404 NotFound;
- a PATCH body type the API does not accept: 415 UnsupportedMediaType; ``json-patch``, ``merge-patch``
  and ``strategic-merge-patch`` are applied (the last as a merge patch: the Scale has no lists);
- a body that is not JSON: 400 BadRequest; negative replicas: 422 Invalid;
- success: 200 with the ``autoscaling/v1`` Scale (``spec.replicas`` omitted when 0, as Go's omitempty
  does; ``status.replicas`` still the pods running, since no controller acts here).

Not modelled: server-side apply (``application/apply-patch+yaml``), resourceVersion conflicts, watches.
Every request is recorded.
"""

from __future__ import annotations

import dataclasses
import json
import re
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

SCALE_PATH = re.compile(r"^/apis/apps/v1/namespaces/(?P<ns>[^/]+)/deployments/(?P<name>[^/]+)/scale$")
PATCH_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
)


@dataclasses.dataclass(frozen=True)
class Certificates:
    ca: Path  # what a pod finds at .../serviceaccount/ca.crt
    cert: Path
    key: Path


def make_certificates(directory: Path) -> Certificates:
    """A throwaway CA and a server certificate for 127.0.0.1, made with the openssl command."""
    directory.mkdir(parents=True, exist_ok=True)
    ca, ca_key = directory / "ca.crt", directory / "ca.key"
    cert, key, csr = directory / "server.crt", directory / "server.key", directory / "server.csr"
    ext = directory / "server.ext"
    ext.write_text(
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n"
    )
    commands = [
        ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca, "-days", "2",
         "-subj", "/CN=songgen-test-cluster-ca", "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=kube-apiserver"],
        ["x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", cert,
         "-days", "2", "-extfile", ext],
    ]  # fmt: skip
    for args in commands:
        subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True, timeout=60)
    return Certificates(ca, cert, key)


@dataclasses.dataclass(frozen=True)
class Call:
    method: str
    path: str
    content_type: str | None
    authorization: str | None
    body: bytes
    status: int


@dataclasses.dataclass
class Deployment:
    replicas: int = 1
    running: int = 1
    resource_version: int = 1000


class KubeAPI:
    def __init__(self, certificates: Certificates, token: str, service_account: str = "studio") -> None:
        self.token = token
        self.service_account = service_account
        self.deployments: dict[tuple[str, str], Deployment] = {}
        self.may_scale = True
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(certificates.cert), str(certificates.key))
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def __enter__(self) -> KubeAPI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def snapshot(self) -> list[Call]:
        with self._lock:
            return list(self.calls)

    # ---- the API's answers ----

    def answer(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, dict[str, Any]]:
        if headers.get("Authorization") != f"Bearer {self.token}":
            return _status(401, "Unauthorized", "Unauthorized")
        match = SCALE_PATH.match(path.split("?", 1)[0])
        if match is None:
            return _status(404, "NotFound", "the server could not find the requested resource")
        if method not in {"GET", "PUT", "PATCH"}:
            return _status(
                405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
            )
        ns, name = match["ns"], match["name"]
        details = {"name": name, "group": "apps", "kind": "deployments"}
        verb = {"GET": "get", "PUT": "update", "PATCH": "patch"}[method]
        if not self.may_scale and verb != "get":
            user = f"system:serviceaccount:{ns}:{self.service_account}"
            message = (
                f'deployments.apps "{name}" is forbidden: User "{user}" cannot {verb} resource '
                f'"deployments/scale" in API group "apps" in the namespace "{ns}"'
            )
            return _status(403, "Forbidden", message, details)
        deployment = self.deployments.get((ns, name))
        if deployment is None:
            return _status(404, "NotFound", f'deployments.apps "{name}" not found', details)
        if method == "GET":
            return 200, _scale(ns, name, deployment)
        return self._change(method, headers.get("Content-Type"), body, ns, name, deployment)

    def _change(
        self, method: str, content_type: str | None, body: bytes, ns: str, name: str, deployment: Deployment
    ) -> tuple[int, dict[str, Any]]:
        media = (content_type or "").split(";", 1)[0].strip()
        if method == "PATCH" and media not in PATCH_TYPES[:3]:
            if media == PATCH_TYPES[3]:
                return _status(
                    415, "UnsupportedMediaType", "server-side apply is not modelled by this stand-in"
                )
            accepted = ", ".join(PATCH_TYPES)
            message = (
                f"the body of the request was in an unknown format - accepted media types include: {accepted}"
            )
            return _status(415, "UnsupportedMediaType", message)
        try:
            patch = json.loads(body)
        except ValueError:
            return _status(400, "BadRequest", "error decoding patch: invalid JSON")
        replicas = _replicas_after(method, media, patch, deployment.replicas)
        if replicas is None:
            return _status(400, "BadRequest", "the patch does not apply to a Scale")
        if replicas < 0:
            message = (
                f'Scale.autoscaling "{name}" is invalid: spec.replicas: Invalid value: {replicas}: '
                "must be greater than or equal to 0"
            )
            return _status(422, "Invalid", message, {"name": name, "group": "autoscaling", "kind": "Scale"})
        deployment.replicas = replicas
        deployment.resource_version += 1
        return 200, _scale(ns, name, deployment)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
                with api._lock:
                    status, payload = api.answer(self.command, self.path, self.headers, body)
                    api.calls.append(
                        Call(
                            self.command,
                            self.path,
                            self.headers.get("Content-Type"),
                            self.headers.get("Authorization"),
                            body,
                            status,
                        )
                    )
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:
                self._serve()

            def do_PUT(self) -> None:
                self._serve()

            def do_PATCH(self) -> None:
                self._serve()

            def do_POST(self) -> None:
                self._serve()

        return Handler


def _replicas_after(method: str, media: str, patch: Any, current: int) -> int | None:
    if method == "PATCH" and media == "application/json-patch+json":
        replicas: Any = current
        for op in patch if isinstance(patch, list) else [None]:
            if (
                not isinstance(op, dict)
                or op.get("op") not in {"replace", "add"}
                or op.get("path") != "/spec/replicas"
            ):
                return None
            replicas = op.get("value")
        return replicas if isinstance(replicas, int) else None
    spec = patch.get("spec") if isinstance(patch, dict) else None
    if not isinstance(spec, dict):
        return None if method == "PUT" else current
    value = spec.get("replicas", 0 if method == "PUT" else current)
    return value if isinstance(value, int) else None


def _scale(ns: str, name: str, deployment: Deployment) -> dict[str, Any]:
    spec = {"replicas": deployment.replicas} if deployment.replicas else {}
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": name,
            "namespace": ns,
            "uid": "5a0f2d4e-0000-4000-8000-000000000001",
            "resourceVersion": str(deployment.resource_version),
            "creationTimestamp": "2026-11-01T00:00:00Z",
        },
        "spec": spec,
        "status": {"replicas": deployment.running, "selector": f"app={name}"},
    }


def _status(
    code: int, reason: str, message: str, details: dict[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    status: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        status["details"] = details
    return code, status
