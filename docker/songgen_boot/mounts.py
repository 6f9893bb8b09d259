"""SONGGEN_WEIGHTS_DIR: the weights from read-only mounts of their Hub repos, linked, never written.

Layout of the mounts (Spaces mounts each repo read-only and reads it lazily)::

    <weights>/runtime/{ckpt,third_party}   lglg666/SongGeneration-Runtime  <- app/ckpt, app/third_party
    <weights>/models/<model_id>/           lglg666/SongGeneration-<name>   <- app/<model_id>

Nothing is downloaded and nothing is written under the mounts. The Studio's patched runtime files
(the overlay) go into a link farm on the container's own disk (``SONGGEN_LOCAL_DIR/runtime``), and
``app/third_party`` points there instead of at the mount. Model ids with no mount keep a writable
directory on the data dir, where a model downloaded from the UI lands. With SONGGEN_COPY_MODELS=1 the
chosen models are copied to local disk first and linked there.
"""

from __future__ import annotations

import threading
from pathlib import Path

from .config import MODELS, Settings
from .console import log
from .copier import MOUNT_REVISION, ModelCopier
from .errors import WeightsError
from .layout import RUNTIME_DIRS, mark_models_verified, place_link
from .linkfarm import build_link_farm
from .manifest import Manifest
from .overlays import overlay_files

WEIGHT_FILES = ("model.pt", "model.safetensors")


def use_mounted_weights(settings: Settings, stop: threading.Event) -> None:
    assert settings.weights_dir is not None
    check_mounts(settings)
    link_runtime(settings)
    copies = ModelCopier(settings, stop).run() if settings.copy_models else {}
    mark_models_verified(settings, [*copies.values(), *link_models(settings, copies)])
    log(f"weights: linked from the mounts under {settings.weights_dir}; nothing downloaded")


def check_mounts(settings: Settings) -> None:
    """Every mount the configuration relies on is there, with the error naming what to change."""
    assert settings.weights_dir is not None
    runtime = settings.weights_dir / "runtime"
    missing = [f"{runtime / name}/" for name in RUNTIME_DIRS if not (runtime / name).is_dir()]
    for model_id in settings.models:
        model_dir = settings.weights_dir / "models" / model_id
        if not any((model_dir / name).is_file() for name in WEIGHT_FILES):
            missing.append(f"{model_dir}/model.pt")
    if missing:
        raise WeightsError(
            f"SONGGEN_WEIGHTS_DIR={settings.weights_dir}: missing {', '.join(missing)}. Mount "
            f"{settings.runtime_repo} at {runtime} and each model in SONGGEN_MODELS at "
            f"{settings.weights_dir}/models/<model_id>, or leave SONGGEN_WEIGHTS_DIR unset to fill a volume."
        )


def link_runtime(settings: Settings) -> None:
    """app/ckpt and app/third_party: straight to the mount, or to a link farm carrying the overlay."""
    assert settings.weights_dir is not None
    runtime = settings.weights_dir / "runtime"
    overlays = overlay_files(settings.overlay_dir)
    for name in RUNTIME_DIRS:
        inside = {rel.split("/", 1)[1]: file for rel, file in overlays.items() if rel.startswith(f"{name}/")}
        target = runtime / name
        if inside:
            target = settings.local_dir / "runtime" / name
            for rel in build_link_farm(runtime / name, target, inside):
                log(f"overlay {name}/{rel}: applied the Studio's patched copy (link farm in {target.parent})")
        _link(settings.app_dir / name, target)


def link_models(settings: Settings, copies: dict[str, Manifest]) -> list[Manifest]:
    """Every model id linked: its local copy, its mount, or a writable dir on the data dir.

    Returns what the mounts hold, as manifests for the Studio's verified_models.json: a mounted
    repo's files are the repo's own, so their size is the one the Hub lists.
    """
    assert settings.weights_dir is not None
    mounted: list[Manifest] = []
    for model_id, (repo, _) in MODELS.items():
        mount = settings.weights_dir / "models" / model_id
        if model_id in copies:
            target = settings.local_dir / "models" / model_id
        elif mount.is_dir():
            target = mount
            mounted.append(_mounted_manifest(repo, mount))
        else:
            target = settings.data_dir / "models" / model_id
            target.mkdir(parents=True, exist_ok=True)
        _link(settings.app_dir / model_id, target)
    return mounted


def _mounted_manifest(repo: str, mount: Path) -> Manifest:
    files = {
        name: {"size": (mount / name).stat().st_size} for name in WEIGHT_FILES if (mount / name).is_file()
    }
    return Manifest(repo, MOUNT_REVISION, complete=bool(files), files=files)


def _link(link_path: Path, target: Path) -> None:
    """A link in the app dir; anything else there is the image's and cannot be merged into a mount."""
    if link_path.exists() and not link_path.is_symlink():
        raise WeightsError(
            f"{link_path} is a real {'directory' if link_path.is_dir() else 'file'} in the image; "
            f"with SONGGEN_WEIGHTS_DIR it must be a link to {target}"
        )
    place_link(link_path, target)
