"""Strict readers for JSON request bodies: a wrong type is a 400 naming the field, never a coercion."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from hub_emulator.errors import bad_request

JSON = dict[str, Any]


async def read_object(request: Request, *, required: bool = True) -> JSON:
    raw = await request.body()
    if not raw.strip():
        if required:
            raise bad_request("request body is required (a JSON object)")
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request(f"invalid JSON body: {exc}") from None
    if not isinstance(data, dict):
        raise bad_request("request body must be a JSON object")
    return data


def opt_str(obj: JSON, key: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad_request(f"invalid {key}: expected a string, got {json.dumps(value)}")
    return value


def req_str(obj: JSON, key: str) -> str:
    value = opt_str(obj, key)
    if not value:
        raise bad_request(f"{key} is required")
    return value


def opt_int(obj: JSON, key: str) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"invalid {key}: expected an integer, got {json.dumps(value)}")
    return value


def opt_bool(obj: JSON, key: str) -> bool | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise bad_request(f"invalid {key}: expected a boolean, got {json.dumps(value)}")
    return value


def opt_list(obj: JSON, key: str) -> list[Any] | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, list):
        raise bad_request(f"invalid {key}: expected an array")
    return value


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
