"""Failures a person can act on: the message is the whole story.

Pulumi's dynamic provider host reports any exception with its Python traceback
(`pulumi/dynamic/__main__.py`, `_abort_with_traceback`). For a failure we explain ourselves (an API error, a
refused change) the traceback only buries the explanation, so `host.attach()` has the provider process report
these with their message alone.
"""

from __future__ import annotations


class ProviderError(Exception):
    """A failure explained in one paragraph: what failed, the service's words, and what to do."""
