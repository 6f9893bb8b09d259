"""Strict readers for query strings, as the Hub reads them (JSON bodies are read by standin.jsonbody)."""

from __future__ import annotations

from hub_emulator.errors import bad_request


def query_flag(value: str | None, name: str) -> bool:
    """A boolean query parameter as httpx sends Python booleans ("true"/"false"), or 1/0."""
    if value is None or value == "":
        return False
    lowered = value.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise bad_request(f"invalid {name}: {value!r} is not a boolean")
