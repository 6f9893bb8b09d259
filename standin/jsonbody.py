"""Strict readers for JSON request bodies: a wrong type is a 400 naming the field, never a coercion.

The services behind both stand-ins decode bodies into typed structures (Fly into Go structs, the Hub into
its own models), so a string where an integer belongs is refused, not converted. `where` prefixes the field
name for nested objects ("guest.cpus").
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from standin.errors import InvalidRequestError

JSON = dict[str, Any]


async def read_object(request: Request, *, required: bool = True) -> JSON:
    raw = await request.body()
    if not raw.strip():
        if required:
            raise InvalidRequestError("request body is required (a JSON object)")
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidRequestError(f"invalid JSON body: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidRequestError("request body must be a JSON object")
    return data


def _refuse(where: str, key: str, expected: str, value: Any) -> InvalidRequestError:
    return InvalidRequestError(f"invalid {where}{key}: expected {expected}, got {json.dumps(value)}")


def opt_str(obj: JSON, key: str, where: str = "") -> str | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise _refuse(where, key, "a string", value)
    return value


def req_str(obj: JSON, key: str, where: str = "") -> str:
    value = opt_str(obj, key, where)
    if not value:
        raise InvalidRequestError(f"{where}{key} is required")
    return value


def opt_int(obj: JSON, key: str, where: str = "") -> int | None:
    value = obj.get(key)
    # bool is an int subclass in Python but never a JSON number.
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise _refuse(where, key, "an integer", value)
    return value


def opt_number(obj: JSON, key: str, where: str = "") -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _refuse(where, key, "a number", value)
    return float(value)


def opt_bool(obj: JSON, key: str, where: str = "") -> bool | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, bool):
        raise _refuse(where, key, "a boolean", value)
    return value


def opt_obj(obj: JSON, key: str, where: str = "") -> JSON | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, dict):
        raise InvalidRequestError(f"invalid {where}{key}: expected an object")
    return value


def opt_list(obj: JSON, key: str, where: str = "") -> list[Any] | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, list):
        raise InvalidRequestError(f"invalid {where}{key}: expected an array")
    return value


def str_list(obj: JSON, key: str, where: str = "") -> list[str] | None:
    items = opt_list(obj, key, where)
    if items is None:
        return None
    if not all(isinstance(item, str) for item in items):
        raise InvalidRequestError(f"invalid {where}{key}: expected an array of strings")
    return list(items)


def str_map(obj: JSON, key: str, where: str = "") -> dict[str, str] | None:
    value = opt_obj(obj, key, where)
    if value is None:
        return None
    if not all(isinstance(v, str) for v in value.values()):
        raise InvalidRequestError(f"invalid {where}{key}: every value must be a string")
    return dict(value)
