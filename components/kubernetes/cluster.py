"""A small, bounded client of the Kubernetes API for the checks our own providers make (reach, ownership,
why a pod waits). Everything the Studio is made of goes through pulumi-kubernetes; this only reads, and
deletes leftovers a stack's own marker proves it made.

Credentials come from the stack config (`songgen-studio:kubeconfig`, a secret, handed to the provider process
by `configure()` and kept in this module, never on a provider object, which is pickled into the state) or the
environment (KUBECONFIG). Every request has a timeout; errors are one sentence naming the server.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from components.dynamic.errors import ProviderError

from .kubeconfig import Connection, KubeconfigError, connect, text_from_environment

KUBECONFIG_CONFIG = "songgen-studio:kubeconfig"
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 10.0

_stack_config: dict[str, str] = {}

JsonObject = dict[str, Any]


def remember_stack_config(config: Any) -> None:
    """Keep the kubeconfig from the stack config (a `pulumi.dynamic.Config`) for this process."""
    value = config.get(KUBECONFIG_CONFIG)
    if isinstance(value, str) and value.strip():
        _stack_config[KUBECONFIG_CONFIG] = value
    else:
        _stack_config.pop(KUBECONFIG_CONFIG, None)


def kubeconfig_text() -> tuple[str, str]:
    """The kubeconfig and where it came from (for messages; never its contents)."""
    if KUBECONFIG_CONFIG in _stack_config:
        return _stack_config[KUBECONFIG_CONFIG], KUBECONFIG_CONFIG
    text = text_from_environment()
    if text is None:
        raise ProviderError(
            "no kubeconfig: set KUBECONFIG to the file of your cluster (e.g. after gcloud container clusters "
            "get-credentials), or store one in the stack with pulumi config set --secret kubeconfig < file"
        )
    return text, "KUBECONFIG"


class ClusterError(ProviderError):
    """The API server could not be reached, or answered with an error."""


class Cluster:
    def __init__(self, connection: Connection, where: str) -> None:
        self.connection = connection
        self.where = where
        self._client = httpx.Client(
            base_url=connection.server,
            headers={
                **connection.headers,
                "Accept": "application/json",
                "User-Agent": "songgen-studio-deploy",
            },
            verify=connection.tls,
            timeout=httpx.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S),
        )

    @property
    def server(self) -> str:
        return self.connection.server

    def close(self) -> None:
        self._client.close()

    def get(self, path: str, **params: str) -> JsonObject | None:
        """The object at `path`, or None when it does not exist."""
        response = self._send("GET", path, params)
        if response.status_code == httpx.codes.NOT_FOUND:
            return None
        return self._json(response, "GET", path)

    def items(self, path: str, **params: str) -> list[JsonObject]:
        listing = self.get(path, **params)
        return list(listing.get("items") or []) if listing else []

    def may(self, path: str) -> bool:
        """False when the credentials may not read `path` (403); other errors raise."""
        response = self._send("GET", path, {"limit": "1"})
        if response.status_code == httpx.codes.FORBIDDEN:
            return False
        if response.status_code != httpx.codes.NOT_FOUND:
            self._json(response, "GET", path)
        return True

    def delete(self, path: str) -> None:
        response = self._send("DELETE", path, {})
        if response.status_code != httpx.codes.NOT_FOUND:
            self._json(response, "DELETE", path)

    def _send(self, method: str, path: str, params: dict[str, str]) -> httpx.Response:
        try:
            return self._client.request(method, path, params=params)
        except httpx.TimeoutException:
            raise ClusterError(
                f"the cluster's API server at {self.server} (context {self.connection.context!r}, kubeconfig from "
                f"{self.where}) did not answer within {READ_TIMEOUT_S:.0f} s. Check that it runs and that this "
                f"machine may reach it: kubectl --context {self.connection.context} get --raw /version"
            ) from None
        except httpx.TransportError as err:
            raise ClusterError(
                f"cannot reach the cluster's API server at {self.server} (context {self.connection.context!r}, "
                f"kubeconfig from {self.where}): {type(err).__name__}: {_first_line(err)}. Check with: "
                f"kubectl --context {self.connection.context} get --raw /version"
            ) from None

    def _json(self, response: httpx.Response, method: str, path: str) -> JsonObject:
        if response.status_code == httpx.codes.UNAUTHORIZED:
            raise ClusterError(
                f"the API server at {self.server} refused the credentials of context {self.connection.context!r} "
                f"(HTTP 401, kubeconfig from {self.where}): they may have expired; fetch new ones"
            )
        if response.is_error:
            raise ClusterError(
                f"{method} {path} on {self.server}: HTTP {response.status_code}: {_status_message(response)}"
            )
        body: JsonObject = response.json()
        return body


def _first_line(err: Exception) -> str:
    return (str(err).splitlines() or [""])[0][:200]


def _status_message(response: httpx.Response) -> str:
    try:
        message = response.json().get("message")
    except ValueError:
        message = None
    return str(message) if message else response.text[:200]


@contextmanager
def cluster(context: str | None) -> Iterator[Cluster]:
    text, where = kubeconfig_text()
    try:
        connection = connect(text, context, where)
    except KubeconfigError as err:
        raise ProviderError(str(err)) from None
    except OSError as err:  # a certificate, key or token file the kubeconfig names
        raise ProviderError(f"the kubeconfig from {where} names a file that cannot be read: {err}") from None
    client = Cluster(connection, where)
    try:
        yield client
    finally:
        client.close()
