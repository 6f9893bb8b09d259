"""The failures that end a boot early; __main__ turns each into an exit code."""

from __future__ import annotations


class ConfigError(Exception):
    """One or more environment variables are invalid; the message names each of them."""


class HubError(Exception):
    """A request to Hugging Face failed for good (a wrong repo, revision or token)."""


class TransientError(Exception):
    """A request failed in a way a retry may fix (connection lost, timeout, 5xx, 429)."""


class StopRequestedError(Exception):
    """The entrypoint was asked to stop while it was working."""


class InsufficientSpaceError(Exception):
    """The volume cannot hold what has to be downloaded."""


class WeightsError(Exception):
    """The mounted weights are missing or unreadable, or a copy of them did not match its source."""
