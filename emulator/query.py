"""Strict readers for query strings, as Fly decodes them: a value that does not parse is a 400 naming the
parameter, not a default. (JSON bodies are read by standin.jsonbody.)"""

from __future__ import annotations

from emulator.errors import bad_request

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
