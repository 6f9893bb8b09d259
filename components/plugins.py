"""Whether a Pulumi resource plugin the program needs can be had, said before the engine fails on it.

The engine finds a plugin installed under $PULUMI_HOME/plugins or on PATH, and otherwise downloads it unless
PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION is set. When neither can happen, its own error names the plugin
but not what else the stack could do; `require()` says both, in one line, in the preview.
"""

from __future__ import annotations

import os
import shutil
from importlib import metadata
from pathlib import Path

import pulumi


def sdk_version(package: str) -> str:
    """The plugin version a provider SDK asks the engine for: the SDK's own version."""
    return metadata.version(package)


def installed(name: str, version: str) -> bool:
    home = Path(os.environ.get("PULUMI_HOME") or Path.home() / ".pulumi")
    return (home / "plugins" / f"resource-{name}-v{version}").is_dir() or shutil.which(
        f"pulumi-resource-{name}"
    ) is not None


def downloads_disabled() -> bool:
    return os.environ.get("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "").lower() in ("1", "true")


def require(name: str, package: str, *, needed_for: str, instead: str) -> None:
    """Stop with one line when the plugin is missing and cannot be downloaded; warn when it will be."""
    version = sdk_version(package)
    if installed(name, version):
        return
    install = f"pulumi plugin install resource {name} {version}"
    if downloads_disabled():
        raise pulumi.RunError(
            f"{needed_for} needs the Pulumi plugin pulumi-resource-{name} v{version}, which is not installed, and "
            f"plugin downloads are off (PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION): install it with `{install}`, "
            f"or {instead}."
        )
    pulumi.log.warn(
        f"{needed_for} needs pulumi-resource-{name} v{version}; the engine will download it. Where downloads are "
        f"blocked, install it with `{install}`, or {instead}."
    )
