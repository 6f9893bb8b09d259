"""The volume's layout, linked into the app directory where the Studio looks; the Studio's state files."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from .config import MODELS, Settings
from .console import log
from .errors import ConfigError
from .manifest import Manifest, atomic_write

# Directories of the runtime bundle that the Studio expects in its app root.
RUNTIME_DIRS = ("ckpt", "third_party")
# State the Studio writes in its app root: name -> is a directory.
STATE_ENTRIES: dict[str, bool] = {
    "output": True,
    "uploads": True,
    "queue.json": False,
    "verified_models.json": False,
    "timing_history.json": False,
}
STATE_DEFAULTS: dict[str, str] = {"queue.json": "[]\n", "verified_models.json": "{}\n"}


def link(link_path: Path, target: Path) -> None:
    """Make link_path a symlink to target, moving anything the image had there onto the volume."""
    if link_path.is_symlink():
        if os.readlink(link_path) == str(target):
            return
        link_path.unlink()
    elif link_path.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        for child in link_path.iterdir():
            dest = target / child.name
            if not dest.exists():
                shutil.move(str(child), str(dest))
        shutil.rmtree(link_path)
    elif link_path.exists():
        if not target.exists():
            shutil.move(str(link_path), str(target))
        else:
            link_path.unlink()
    place_link(link_path, target)


def place_link(link_path: Path, target: Path) -> None:
    """Atomically make link_path a symlink to target; link_path must be absent or a symlink."""
    if link_path.is_symlink() and os.readlink(link_path) == str(target):
        return
    link_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = link_path.with_name(f".{link_path.name}.link")
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(target, tmp)
    os.replace(tmp, link_path)


def lay_out(settings: Settings) -> None:
    """The data dir's layout, linked into the app dir; the weights too unless they come from mounts."""
    data, app = settings.data_dir, settings.app_dir
    if not app.is_dir():
        raise ConfigError(f"SONGGEN_APP_DIR={app} is not a directory")
    for sub in ("models", *([] if settings.weights_dir else [".songgen/manifests"])):
        (data / sub).mkdir(parents=True, exist_ok=True)
    settings.cache_dir.mkdir(parents=True, exist_ok=True)
    if settings.weights_dir is None:
        link_volume_weights(settings)
    lay_out_state(settings)
    log(f"{'bucket' if settings.data_bucket else 'volume'} laid out at {data} and linked into {app}")


def link_volume_weights(settings: Settings) -> None:
    """The runtime bundle and every model dir on the data dir, where the fill puts them."""
    data, app = settings.data_dir, settings.app_dir
    for name in RUNTIME_DIRS:
        (data / "runtime" / name).mkdir(parents=True, exist_ok=True)
        link(app / name, data / "runtime" / name)
    for model_id in MODELS:
        (data / "models" / model_id).mkdir(exist_ok=True)
        link(app / model_id, data / "models" / model_id)


def lay_out_state(settings: Settings) -> None:
    """Songs and uploads on the data dir; the state files there too, or on local disk for a bucket."""
    app = settings.app_dir
    for name, is_dir in STATE_ENTRIES.items():
        target = (settings.data_dir if is_dir else settings.state_dir) / name
        if is_dir:
            target.mkdir(parents=True, exist_ok=True)
        link(app / name, target)
        if not is_dir and name in STATE_DEFAULTS and not target.exists():
            atomic_write(target, STATE_DEFAULTS[name])


def mark_models_verified(settings: Settings, manifests: Sequence[Manifest]) -> None:
    """Record the models we verified in the Studio's own verified_models.json (saves it an HF call)."""
    path = settings.state_dir / "verified_models.json"
    try:
        current = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    except (OSError, ValueError):
        log(f"{path} is not valid JSON; leaving it alone")
        return
    if not isinstance(current, dict):
        return
    changed = False
    repos = {repo: model_id for model_id, (repo, _) in MODELS.items()}
    for manifest in manifests:
        model_id = repos.get(manifest.repo)
        if model_id is None or not manifest.complete:
            continue
        for weights in ("model.pt", "model.safetensors"):
            entry = manifest.files.get(weights)
            if entry is None:
                continue
            known = current.get(model_id)
            if not isinstance(known, dict) or known.get("model_pt_size") != entry["size"]:
                current[model_id] = {
                    "verified": True,
                    "model_pt_size": entry["size"],
                    "verified_at": datetime.now().isoformat(),
                }
                changed = True
            break
    if changed:
        atomic_write(path, json.dumps(current, indent=2) + "\n")
