"""The few Kubernetes API calls the local cluster and its tests make: JSON over HTTPS with a bearer token."""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

JsonObject = dict[str, Any]


class KubeApiError(RuntimeError):
    pass


class KubeApi:
    """A thin client for one API server; `path`s are API paths such as `/api/v1/nodes`."""

    def __init__(self, server: str, token: str, ca_file: Path, timeout: float = 10.0) -> None:
        self.server = server
        self._client = httpx.Client(
            base_url=server,
            headers={"Authorization": f"Bearer {token}"},
            verify=ssl.create_default_context(cafile=str(ca_file)),
            timeout=timeout,
        )

    def close(self) -> None:
        self._client.close()

    def get(self, path: str) -> JsonObject | None:
        """The object at `path`, or None when it does not exist."""
        response = self._client.get(path)
        if response.status_code == httpx.codes.NOT_FOUND:
            return None
        return self._json(response, "GET", path)

    def items(self, path: str) -> list[JsonObject]:
        listing = self.get(path)
        return list(listing["items"]) if listing else []

    def create(self, path: str, body: JsonObject) -> JsonObject:
        return self._json(self._client.post(path, json=body), "POST", path)

    def delete(self, path: str) -> None:
        """Deletes the object at `path`; one that is already gone is fine."""
        response = self._client.delete(path)
        if response.status_code != httpx.codes.NOT_FOUND:
            self._json(response, "DELETE", path)

    def healthy(self, path: str = "/readyz") -> bool:
        try:
            return self._client.get(path).status_code == httpx.codes.OK
        except httpx.TransportError:
            return False

    def wait_for(self, what: str, condition: Callable[[], bool], timeout: float = 60.0) -> None:
        """Polls `condition` until it holds; raises naming `what` after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise KubeApiError(f"timed out after {timeout:.0f} s waiting for {what}")
            time.sleep(0.2)

    @staticmethod
    def _json(response: httpx.Response, method: str, path: str) -> JsonObject:
        if response.is_error:
            raise KubeApiError(f"{method} {path}: HTTP {response.status_code}: {response.text[:500]}")
        body: JsonObject = response.json()
        return body
