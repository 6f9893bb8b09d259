"""Model repo downloads as the entrypoint's volume fill does them: snapshot_download over plain HTTP, LFS files
from a "CDN" on another host name without the token, Range resume after a dropped connection, pagination,
and the bandwidth cap."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import httpx
import pytest
from huggingface_hub import HfApi, get_hf_file_metadata, hf_hub_download, hf_hub_url, snapshot_download
from huggingface_hub.errors import RemoteEntryNotFoundError, RepositoryNotFoundError

from hub_emulator import HubEmulator, SyntheticContent, synthetic
from hub_emulator.blobs import Blob
from tests.hub_emulator.conftest import People

pytestmark = pytest.mark.timeout(60)

REPO = "lglg666/SongGeneration-base"
CONFIG = "model_type: levo\nsample_rate: 48000\n"
MODEL = synthetic(3_000_000, seed=7)


def _seed(hub: HubEmulator) -> str:
    return hub.add_repo(
        REPO, {"config.yaml": CONFIG, "model.pt": MODEL, "ckpt/vae/vae.pt": synthetic(1000, 3)}
    )


def _expected(content: SyntheticContent) -> bytes:
    return Blob.of(content).read()


def test_snapshot_download_fetches_regular_files_directly_and_lfs_files_from_the_cdn_without_the_token(
    hub: HubEmulator, people: People, tmp_path: Path
) -> None:
    sha = _seed(hub)
    folder = Path(snapshot_download(REPO, endpoint=hub.url, token=people.alice, local_dir=tmp_path / "base"))
    assert (folder / "config.yaml").read_text() == CONFIG
    assert (folder / "model.pt").read_bytes() == _expected(MODEL)
    assert (folder / "ckpt" / "vae" / "vae.pt").stat().st_size == 1000
    cdn = [r for r in hub.requests() if r.kind == "cdn"]
    assert sorted(r.path.rsplit("/", 1)[-1] for r in cdn) == sorted(
        hashlib.sha256(_expected(c)).hexdigest() for c in (MODEL, synthetic(1000, 3))
    )
    assert all(r.host.startswith("localhost:") and not r.authorized and r.status == 200 for r in cdn)
    assert sum(r.bytes_sent for r in cdn) == 3_001_000
    api_calls = [r for r in hub.requests() if r.kind in ("api", "download")]
    assert all(r.authorized and r.host.startswith("127.0.0.1:") for r in api_calls)
    assert any(r.path == f"/api/models/{REPO}/tree/{sha}" for r in api_calls)


def test_file_metadata_carries_the_hubs_headers(hub: HubEmulator, people: People) -> None:
    sha = _seed(hub)
    regular = get_hf_file_metadata(hf_hub_url(REPO, "config.yaml", endpoint=hub.url), token=people.alice)
    assert (regular.commit_hash, regular.size) == (sha, len(CONFIG))
    assert (
        regular.etag
        == hashlib.sha1(f"blob {len(CONFIG)}\0{CONFIG}".encode(), usedforsecurity=False).hexdigest()
    )
    assert regular.xet_file_data is None
    lfs = get_hf_file_metadata(hf_hub_url(REPO, "model.pt", endpoint=hub.url), token=people.alice)
    assert (lfs.commit_hash, lfs.size, lfs.etag) == (
        sha,
        3_000_000,
        hashlib.sha256(_expected(MODEL)).hexdigest(),
    )
    assert lfs.location.startswith(f"http://localhost:{hub.port}/__cdn/lfs/")
    assert lfs.xet_file_data is None  # no Xet headers: huggingface_hub downloads over plain HTTP


def test_a_download_cut_mid_file_is_resumed_with_a_range_request(
    hub: HubEmulator, people: People, tmp_path: Path
) -> None:
    # huggingface_hub writes what it received in 10 MiB pieces: a cut after the first piece resumes from there.
    big = synthetic(11_000_000, seed=5)
    hub.add_repo(REPO, {"model.pt": big})
    hub.inject_fault("GET", r"/__cdn/lfs/.*", cut_after=10_600_000)
    path = hf_hub_download(
        REPO, "model.pt", endpoint=hub.url, token=people.alice, cache_dir=tmp_path / "cache"
    )
    assert Path(path).read_bytes() == _expected(big)
    cdn = [r for r in hub.requests() if r.kind == "cdn"]
    piece = 10 * 1024 * 1024
    assert [(r.status, r.bytes_sent) for r in cdn] == [(200, 10_600_000), (206, 11_000_000 - piece)]


def test_the_cdn_honours_ranges_and_refuses_unsigned_or_expired_links(
    hub: HubEmulator, people: People
) -> None:
    _seed(hub)
    location = get_hf_file_metadata(
        hf_hub_url(REPO, "model.pt", endpoint=hub.url), token=people.alice
    ).location
    part = httpx.get(location, headers={"Range": "bytes=10-19"})
    assert (part.status_code, part.headers["Content-Range"]) == (206, "bytes 10-19/3000000")
    assert part.content == _expected(MODEL)[10:20]
    assert httpx.get(location, headers={"Range": "bytes=5000000-"}).status_code == 416
    assert httpx.get(location.replace("signature=", "signature=0")).status_code == 403
    assert httpx.get(location.replace("localhost", "127.0.0.1")).status_code == 404


def test_regular_files_honour_ranges_on_resolve(hub: HubEmulator, people: People) -> None:
    _seed(hub)
    url = hf_hub_url(REPO, "config.yaml", endpoint=hub.url)
    response = httpx.get(url, headers={"Authorization": f"Bearer {people.alice}", "Range": "bytes=-5"})
    assert (response.status_code, response.content) == (206, CONFIG[-5:].encode())
    assert response.headers["X-Repo-Commit"] == hub.state()["models"][REPO]["sha"]


def test_a_missing_file_is_entry_not_found_and_a_private_repo_needs_its_owners_token(
    hub: HubEmulator, people: People, tmp_path: Path
) -> None:
    hub.add_repo("alice/private-weights", {"config.yaml": CONFIG}, private=True)
    with pytest.raises(RemoteEntryNotFoundError):
        hf_hub_download(
            "alice/private-weights", "nope.bin", endpoint=hub.url, token=people.alice, cache_dir=tmp_path
        )
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download(
            "alice/private-weights", "config.yaml", endpoint=hub.url, token=people.bob, cache_dir=tmp_path
        )
    path = hf_hub_download(
        "alice/private-weights", "config.yaml", endpoint=hub.url, token=people.alice, cache_dir=tmp_path
    )
    assert Path(path).read_text() == CONFIG


def test_tree_listings_are_paginated_with_link_headers(hub: HubEmulator, api: HfApi) -> None:
    hub.configure(tree_page_size=2)
    _seed(hub)
    files = api.list_repo_files(REPO)
    assert files == [".gitattributes", "ckpt/vae/vae.pt", "config.yaml", "model.pt"]
    tree_calls = [r for r in hub.requests() if "/tree/" in r.path]
    assert len(tree_calls) == 3  # 6 entries (4 files, 2 folders) in pages of 2
    top = [e.path for e in api.list_repo_tree(REPO)]
    assert top == [".gitattributes", "ckpt", "config.yaml", "model.pt"]


def test_the_bandwidth_cap_slows_each_download_connection(
    hub: HubEmulator, people: People, tmp_path: Path
) -> None:
    hub.add_repo(REPO, {"model.pt": synthetic(400_000, 1)})
    hub.set_bandwidth(1_000_000)
    started = time.monotonic()
    hf_hub_download(REPO, "model.pt", endpoint=hub.url, token=people.alice, cache_dir=tmp_path)
    elapsed = time.monotonic() - started
    assert 0.4 <= elapsed < 3.0, elapsed  # 400 kB at 1 MB/s
