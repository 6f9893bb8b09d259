"""Strict body readers: the right type or a 400 that names the field, never a coercion."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.requests import Request
from starlette.types import Message

from standin.errors import InvalidRequestError
from standin.jsonbody import (
    opt_bool,
    opt_int,
    opt_list,
    opt_number,
    opt_obj,
    opt_str,
    read_object,
    req_str,
    str_list,
    str_map,
)


def _read(raw: bytes, *, required: bool = True) -> dict[str, Any]:
    async def receive() -> Message:
        return {"type": "http.request", "body": raw, "more_body": False}

    request = Request({"type": "http", "method": "POST", "path": "/", "headers": []}, receive)
    return asyncio.run(read_object(request, required=required))


def test_a_body_must_be_one_json_object() -> None:
    assert _read(b'{"a": 1}') == {"a": 1}
    assert _read(b"  ", required=False) == {}
    for raw, complaint in (
        (b"", "request body is required"),
        (b"{nope", "invalid JSON body"),
        (b"[1, 2]", "must be a JSON object"),
    ):
        with pytest.raises(InvalidRequestError, match=complaint):
            _read(raw)


def test_missing_and_null_fields_read_as_none() -> None:
    body: dict[str, Any] = {"n": None}
    readers = (opt_str, opt_int, opt_number, opt_bool, opt_obj, opt_list, str_list, str_map)
    assert [read(body, "n") for read in readers] == [None] * len(readers)
    assert [read(body, "absent") for read in readers] == [None] * len(readers)


def test_each_reader_takes_its_own_type() -> None:
    body: dict[str, Any] = {"s": "x", "i": 3, "f": 1.5, "b": False, "o": {"k": "v"}, "l": ["a"]}
    assert (opt_str(body, "s"), opt_int(body, "i"), opt_bool(body, "b")) == ("x", 3, False)
    assert (opt_number(body, "i"), opt_number(body, "f")) == (3.0, 1.5)
    assert (opt_obj(body, "o"), opt_list(body, "l")) == ({"k": "v"}, ["a"])
    assert (str_list(body, "l"), str_map(body, "o")) == (["a"], {"k": "v"})


@pytest.mark.parametrize(
    ("read", "value", "complaint"),
    [
        (opt_str, 1, "invalid guest.f: expected a string, got 1"),
        (opt_int, "1", 'invalid guest.f: expected an integer, got "1"'),
        (opt_int, 1.5, "invalid guest.f: expected an integer, got 1.5"),
        (opt_int, True, "invalid guest.f: expected an integer, got true"),
        (opt_number, True, "invalid guest.f: expected a number, got true"),
        (opt_bool, 0, "invalid guest.f: expected a boolean, got 0"),
        (opt_obj, [], "invalid guest.f: expected an object"),
        (opt_list, {}, "invalid guest.f: expected an array"),
        (str_list, ["a", 1], "invalid guest.f: expected an array of strings"),
        (str_map, {"k": 1}, "invalid guest.f: every value must be a string"),
    ],
)
def test_a_wrong_type_is_refused_naming_the_field_where_it_is(read: Any, value: Any, complaint: str) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        read({"f": value}, "f", "guest.")
    assert refused.value.message == complaint


def test_a_required_string_must_be_present_and_not_empty() -> None:
    assert req_str({"name": "a"}, "name") == "a"
    for body in ({}, {"name": ""}):
        with pytest.raises(InvalidRequestError, match="name is required"):
            req_str(body, "name")
