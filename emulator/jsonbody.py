"""Strict readers for request bodies and query strings.

Fly decodes bodies into Go structs: a string where an integer belongs, or a float for an int field, is a
400, not a coercion. These helpers reproduce that strictness and name the offending field.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from emulator.errors import bad_request

JSON = dict[str, Any]


async def read_object(request: Request, *, required: bool = True) -> JSON:
    raw = await request.body()
    if not raw.strip():
        if required:
            raise bad_request("request body is required")
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request(f"invalid JSON body: {exc}") from None
    if not isinstance(data, dict):
        raise bad_request("request body must be a JSON object")
    return data


def _present(obj: JSON, key: str) -> bool:
    return key in obj and obj[key] is not None


def opt_str(obj: JSON, key: str, where: str = "") -> str | None:
    if not _present(obj, key):
        return None
    value = obj[key]
    if not isinstance(value, str):
        raise bad_request(f"invalid {where}{key}: expected a string, got {json.dumps(value)}")
    return value


def req_str(obj: JSON, key: str, where: str = "") -> str:
    value = opt_str(obj, key, where)
    if not value:
        raise bad_request(f"{where}{key} is required")
    return value


def opt_int(obj: JSON, key: str, where: str = "") -> int | None:
    if not _present(obj, key):
        return None
    value = obj[key]
    # bool is an int subclass in Python but never a JSON number.
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"invalid {where}{key}: expected an integer, got {json.dumps(value)}")
    return value


def opt_bool(obj: JSON, key: str, where: str = "") -> bool | None:
    if not _present(obj, key):
        return None
    value = obj[key]
    if not isinstance(value, bool):
        raise bad_request(f"invalid {where}{key}: expected a boolean, got {json.dumps(value)}")
    return value


def opt_obj(obj: JSON, key: str, where: str = "") -> JSON | None:
    if not _present(obj, key):
        return None
    value = obj[key]
    if not isinstance(value, dict):
        raise bad_request(f"invalid {where}{key}: expected an object")
    return value


def opt_list(obj: JSON, key: str, where: str = "") -> list[Any] | None:
    if not _present(obj, key):
        return None
    value = obj[key]
    if not isinstance(value, list):
        raise bad_request(f"invalid {where}{key}: expected an array")
    return value


def str_list(obj: JSON, key: str, where: str = "") -> list[str] | None:
    items = opt_list(obj, key, where)
    if items is None:
        return None
    if not all(isinstance(item, str) for item in items):
        raise bad_request(f"invalid {where}{key}: expected an array of strings")
    return list(items)


def str_map(obj: JSON, key: str, where: str = "") -> dict[str, str] | None:
    value = opt_obj(obj, key, where)
    if value is None:
        return None
    if not all(isinstance(v, str) for v in value.values()):
        raise bad_request(f"invalid {where}{key}: every value must be a string")
    return dict(value)


_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


def query_bool(value: str | None, name: str) -> bool:
    """Go's strconv.ParseBool, which is what Fly's query decoding uses."""
    if value is None or value == "":
        return False
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise bad_request(f"invalid {name}: {value!r} is not a boolean")


def query_int(value: str | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise bad_request(f"invalid {name}: {value!r} is not an integer") from None
