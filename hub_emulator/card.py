"""README front matter: a repo's `cardData`, and a Space's configuration (SDK, app port)."""

from __future__ import annotations

from typing import Any

import yaml

SPACE_SDKS = ("gradio", "streamlit", "docker", "static")
MODELLED_SDK = "docker"


class CardError(ValueError):
    """The README's front matter is not valid YAML (or not a mapping)."""


def front_matter(text: str) -> dict[str, Any] | None:
    """The YAML block between the leading `---` lines, or None when the README has none."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return None
    for end, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            block = "\n".join(lines[1:end])
            break
    else:
        raise CardError("the front matter opened by '---' is never closed")
    try:
        data = yaml.safe_load(block)
    except yaml.YAMLError as exc:
        raise CardError(f"invalid YAML in the README front matter: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise CardError("the README front matter must be a YAML mapping")
    return data


def card_data(readme: str | None) -> dict[str, Any] | None:
    if readme is None:
        return None
    try:
        return front_matter(readme)
    except CardError:
        return None


def space_config_problem(readme: str | None) -> str | None:
    """Why a Space with this README is in CONFIG_ERROR, or None when its configuration is usable."""
    if readme is None:
        return "Missing configuration in README: a Space needs a README.md with YAML front matter"
    try:
        meta = front_matter(readme)
    except CardError as exc:
        return f"Invalid configuration in README: {exc}"
    if not meta:
        return "Missing configuration in README: no YAML front matter"
    sdk = meta.get("sdk")
    if sdk not in SPACE_SDKS:
        return f"Invalid configuration in README: sdk must be one of {', '.join(SPACE_SDKS)}, got {sdk!r}"
    if sdk != MODELLED_SDK:
        return f"the Hub stand-in runs docker Spaces only, this README says sdk: {sdk}"
    port = meta.get("app_port", 7860)
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        return f"Invalid configuration in README: app_port must be a port number, got {port!r}"
    return None


def validation_problems(content: str, repo_type: str) -> list[str]:
    """What `POST /api/validate-yaml` reports as errors for a README."""
    try:
        meta = front_matter(content)
    except CardError as exc:
        return [str(exc)]
    if repo_type == "space" and meta and "sdk" in meta and meta["sdk"] not in SPACE_SDKS:
        return [f'"sdk" must be one of [{", ".join(SPACE_SDKS)}]']
    return []


def default_space_readme(name: str, sdk: str) -> str:
    """The README the Hub writes into a new Space (models and datasets start without one)."""
    return (
        "---\n"
        f"title: {name}\n"
        "emoji: 🎵\n"
        "colorFrom: blue\n"
        "colorTo: green\n"
        f"sdk: {sdk}\n"
        "pinned: false\n"
        "---\n\n"
        "Check out the configuration reference at https://huggingface.co/docs/hub/spaces-config-reference\n"
    )
