"""Credentials of a throwaway local cluster: bearer tokens, a service-account signing key, kubeconfigs.

Everything is made fresh per cluster and lives only in its temporary directory.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

import yaml

# The order of the NIST P-256 group: a private key is a scalar in [1, N-1].
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_P256_OID_DER = bytes.fromhex("06082a8648ce3d030107")


@dataclass(frozen=True)
class User:
    """An identity the API server knows by a static bearer token."""

    name: str
    token: str
    groups: tuple[str, ...] = ()

    @classmethod
    def with_new_token(cls, name: str, *groups: str) -> User:
        return cls(name=name, token=secrets.token_hex(24), groups=groups)


def token_auth_file(users: Sequence[User]) -> str:
    """The API server's `--token-auth-file`: token,user,uid,"group1,group2" per line."""
    lines = [f'{u.token},{u.name},{u.name},"{",".join(u.groups)}"' for u in users]
    return "\n".join(lines) + "\n"


def service_account_signing_key() -> bytes:
    """A PEM EC private key (P-256, SEC 1) to sign and verify service-account tokens.

    The Python standard library has no key generation, and no crypto package is a dependency here. An EC
    private key is just a random scalar; Go's parser derives the public point itself, so the optional
    public-key field is left out.
    """
    scalar = secrets.randbelow(_P256_ORDER - 1) + 1
    body = (
        bytes.fromhex("020101")  # version 1
        + b"\x04\x20"
        + scalar.to_bytes(32, "big")  # privateKey OCTET STRING
        + b"\xa0"
        + bytes([len(_P256_OID_DER)])
        + _P256_OID_DER  # [0] parameters: namedCurve prime256v1
    )
    der = b"\x30" + bytes([len(body)]) + body
    encoded = base64.encodebytes(der).decode().replace("\n", "")
    wrapped = "\n".join(encoded[i : i + 64] for i in range(0, len(encoded), 64))
    return f"-----BEGIN EC PRIVATE KEY-----\n{wrapped}\n-----END EC PRIVATE KEY-----\n".encode()


def kubeconfig(server: str, ca_pem: bytes, user: User, *, cluster_name: str = "local") -> str:
    """A kubeconfig that trusts `ca_pem` and authenticates with the user's bearer token."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": cluster_name,
                "cluster": {
                    "server": server,
                    "certificate-authority-data": base64.b64encode(ca_pem).decode(),
                },
            }
        ],
        "users": [{"name": user.name, "user": {"token": user.token}}],
        "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": user.name}}],
        "current-context": cluster_name,
    }
    return yaml.safe_dump(config, sort_keys=False)
