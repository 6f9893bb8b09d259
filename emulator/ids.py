"""Identifiers and addresses shaped like Fly's, so clients that parse or log them see familiar values."""

from __future__ import annotations

import ipaddress
import secrets
import time
from datetime import UTC, datetime

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_LOWER_ALNUM = "0123456789abcdefghijklmnopqrstuvwxyz"
_ADJECTIVES = ("aged", "bold", "calm", "damp", "eager", "fancy", "gentle", "hidden", "icy", "jolly")
_NOUNS = ("thunder", "river", "meadow", "forest", "sky", "stone", "frost", "breeze", "ember", "wave")


def _random_string(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def ulid() -> str:
    """26-character ULID: Fly uses these for instance ids (machine versions) and event ids."""
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def machine_id() -> str:
    return secrets.token_hex(7)  # 14 hex characters, e.g. "1857156b526dd8"


def app_id() -> str:
    return _random_string(_LOWER_ALNUM, 16)


def volume_id() -> str:
    return "vol_" + _random_string(_LOWER_ALNUM, 16)


def snapshot_id() -> str:
    return "vs_" + _random_string(_LOWER_ALNUM + _LOWER_ALNUM.upper(), 16)


def lease_nonce() -> str:
    return secrets.token_hex(6)


def zone() -> str:
    return secrets.token_hex(2)


def machine_name() -> str:
    return f"{secrets.choice(_ADJECTIVES)}-{secrets.choice(_NOUNS)}-{secrets.randbelow(10000):04d}"


def private_ip() -> str:
    """A 6PN address; Fly's private network lives under fdaa::/16."""
    groups = [secrets.token_hex(2) for _ in range(4)]
    return f"fdaa:0:{secrets.token_hex(2)}:a7b:{groups[0]}:{groups[1]}:{groups[2]}:2"


def public_ipv6() -> str:
    # Fly's anycast v6 space is 2a09:8280::/32; apps get addresses under 2a09:8280:1::/48. Canonical form
    # (no leading zeros, "::" compression) so the address a client sends back matches the one handed out.
    network = int(ipaddress.IPv6Address("2a09:8280:1::"))
    return str(ipaddress.IPv6Address(network | secrets.randbits(80)))


def dedicated_ipv4() -> str:
    # 137.66.0.0/17 is one of Fly's public anycast ranges; never a private-range address.
    return f"137.66.{secrets.randbelow(128)}.{1 + secrets.randbelow(254)}"


# Shared IPv4 addresses are shared between apps by definition, so every app gets the same one.
SHARED_IPV4 = "66.241.124.100"


def iso_now() -> str:
    return iso(time.time())


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ts * 1000) % 1000:03d}Z"
