"""Typed values read from the environment; every bad variable is noted by name, none stops the reading."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable, Mapping
from pathlib import Path

from .errors import ConfigError

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


class EnvReader:
    """Reads one variable at a time; a bad value falls back to the default and is noted for the end."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.problems: list[str] = []

    def problem(self, message: str) -> None:
        self.problems.append(message)

    def raise_if_invalid(self) -> None:
        if self.problems:
            raise ConfigError("invalid configuration:\n  " + "\n  ".join(self.problems))

    def raw(self, name: str) -> str:
        return self.env.get(name, "").strip()

    def text(self, name: str, default: str) -> str:
        return self.raw(name) or default

    def optional_text(self, name: str) -> str | None:
        return self.raw(name) or None

    def path(self, name: str, default: Path) -> Path:
        raw = self.raw(name)
        return Path(raw) if raw else default

    def optional_path(self, name: str) -> Path | None:
        raw = self.raw(name)
        return Path(raw) if raw else None

    def number(self, name: str, default: float, minimum: float = 0.0) -> float:
        value = self.optional_number(name, minimum)
        return default if value is None else value

    def optional_number(self, name: str, minimum: float = 0.0) -> float | None:
        raw = self.raw(name)
        if not raw:
            return None
        try:
            value = float(raw)
        except ValueError:
            self.problem(f"{name}={raw!r} is not a number")
            return None
        if value < minimum:
            self.problem(f"{name}={raw!r} must be >= {minimum:g}")
            return None
        return value

    def whole_number(self, name: str, what: str) -> int | None:
        raw = self.raw(name)
        if not raw:
            return None
        if raw.isdigit():
            return int(raw)
        self.problem(f"{name}={raw!r} must be a whole number of {what}")
        return None

    def flag(self, name: str, default: bool) -> bool:
        raw = self.raw(name).lower()
        if not raw:
            return default
        if raw in _TRUE:
            return True
        if raw in _FALSE:
            return False
        self.problem(f"{name}={raw!r} must be 1 or 0")
        return default

    def choice(self, name: str, default: str, choices: Iterable[str]) -> str:
        allowed = tuple(choices)
        value = self.text(name, default).lower()
        if value not in allowed:
            self.problem(f"{name}={value!r} must be {_one_of(allowed)}")
            return default
        return value

    def port(self, name: str, default: int) -> int:
        raw = self.text(name, str(default))
        if not raw.isdigit() or not 0 < int(raw) < 65536:
            self.problem(f"{name}={raw!r} must be a TCP port (1-65535)")
            return default
        return int(raw)

    def url(self, name: str, default: str) -> str:
        value = self.text(name, default).rstrip("/")
        if not is_http_url(value):
            self.problem(f"{name}={value!r} must be an http(s) URL")
        return value

    def items(self, name: str, default: str) -> tuple[str, ...]:
        return tuple(item.strip() for item in self.env.get(name, default).split(",") if item.strip())


def is_http_url(value: str) -> bool:
    parts = urllib.parse.urlsplit(value)
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


def _one_of(choices: tuple[str, ...]) -> str:
    quoted = [repr(c) for c in choices]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"
