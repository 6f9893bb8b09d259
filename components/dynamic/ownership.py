"""Which stack made a resource: the marker every platform writes where its API lets it.

A name says nothing about who made a thing: a second stack started from a copy of the first's stack file names
the same app, Space or namespace. So resources carry their stack's owner id, `<organization>/<project>/<stack>`,
and a stack adopts (after a lost answer or a run cut short) only what carries its own id. Where a platform has
no free-form metadata, the id is folded into a name the API keeps (see each platform's module).
"""

from __future__ import annotations

import hashlib
import re


def owner_id(organization: str, project: str, stack: str) -> str:
    return f"{organization}/{project}/{stack}"


def current_owner() -> str:
    """The running program's owner id (call it in the Pulumi program, not in a provider)."""
    import pulumi

    return owner_id(pulumi.get_organization(), pulumi.get_project(), pulumi.get_stack())


def stack_of(owner: str) -> str:
    return owner.rsplit("/", 1)[-1]


def digest(owner: str, length: int = 10) -> str:
    """A short, stable fingerprint of an owner id, for names with little room."""
    return hashlib.sha256(owner.encode()).hexdigest()[:length]


def slug(text: str, length: int) -> str:
    """Lowercase letters, digits and single dashes, at most `length` characters."""
    cleaned = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return cleaned[:length].rstrip("-") or "stack"
