"""The platform and storage settings: defaults that keep Fly as it was, and errors that name the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docker.conftest import Boot


def test_defaults_are_fly_with_a_volume_as_before(boot: Boot) -> None:
    s = boot.config.Settings.from_env({})
    assert s.platform == "fly"
    assert s.keepawake is None
    assert s.kubernetes is None
    assert s.drain_seconds == 0
    assert s.weights_dir is None
    assert s.copy_models is False
    assert s.data_bucket is False
    assert s.cache_dir == Path("/data/cache")
    assert s.state_dir == Path("/data")
    assert s.uses_local_dir is False


def test_cache_follows_the_data_dir_unless_set(boot: Boot) -> None:
    assert boot.config.Settings.from_env({"SONGGEN_DATA_DIR": "/vol"}).cache_dir == Path("/vol/cache")
    s = boot.config.Settings.from_env({"SONGGEN_DATA_DIR": "/vol", "SONGGEN_CACHE_DIR": "/local/cache"})
    assert s.cache_dir == Path("/local/cache")


def test_a_bucket_keeps_the_state_files_on_local_disk(boot: Boot) -> None:
    s = boot.config.Settings.from_env({"SONGGEN_DATA_BUCKET": "1", "SONGGEN_LOCAL_DIR": "/scratch"})
    assert s.state_dir == Path("/scratch/state")
    assert s.uses_local_dir


@pytest.mark.parametrize(("idle_minutes", "period"), [("15", 225.0), ("60", 300.0), ("1", 15.0)])
def test_spaces_pings_its_own_host_a_quarter_of_the_sleep_time_at_most_every_five_minutes(
    boot: Boot, idle_minutes: str, period: float
) -> None:
    s = boot.config.Settings.from_env(
        {
            "SONGGEN_PLATFORM": "spaces",
            "SPACE_HOST": "me-studio.hf.space",
            "SONGGEN_IDLE_STOP_MINUTES": idle_minutes,
        }
    )
    assert s.keepawake is not None
    assert s.keepawake.url == "https://me-studio.hf.space/"
    assert s.keepawake.space_host == "me-studio.hf.space"
    assert s.keepawake.period_seconds == period


def test_platform_settings_are_checked_only_when_the_idle_stop_is_on(boot: Boot) -> None:
    for platform in ("spaces", "kubernetes"):
        s = boot.config.Settings.from_env({"SONGGEN_PLATFORM": platform, "SONGGEN_IDLE_STOP_MINUTES": "0"})
        assert (s.platform, s.keepawake, s.kubernetes) == (platform, None, None)


def test_kubernetes_reads_the_in_cluster_address_and_its_deployment(boot: Boot) -> None:
    s = boot.config.Settings.from_env(
        {
            "SONGGEN_PLATFORM": "kubernetes",
            "KUBERNETES_SERVICE_HOST": "10.96.0.1",
            "KUBERNETES_SERVICE_PORT": "443",
            "SONGGEN_K8S_DEPLOYMENT": "songgen-studio",
        }
    )
    assert s.kubernetes is not None
    assert (s.kubernetes.api_host, s.kubernetes.api_port) == ("10.96.0.1", 443)
    assert s.kubernetes.deployment == "songgen-studio"
    assert s.kubernetes.namespace is None, "read from the service account at boot"
    assert s.kubernetes.service_account_dir == Path("/var/run/secrets/kubernetes.io/serviceaccount")


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SONGGEN_PLATFORM": "heroku"}, ["SONGGEN_PLATFORM='heroku'", "'fly', 'spaces' or 'kubernetes'"]),
        ({"SONGGEN_PLATFORM": "spaces"}, ["SONGGEN_KEEPAWAKE_URL", "SPACE_HOST"]),
        (
            {"SONGGEN_PLATFORM": "spaces", "SPACE_HOST": "a-b.hf.space", "SONGGEN_KEEPAWAKE_SECONDS": "900"},
            ["SONGGEN_KEEPAWAKE_SECONDS=900", "SONGGEN_IDLE_STOP_MINUTES"],
        ),
        (
            {"SONGGEN_PLATFORM": "spaces", "SONGGEN_KEEPAWAKE_URL": "ftp://x"},
            ["SONGGEN_KEEPAWAKE_URL='ftp://x'"],
        ),
        ({"SONGGEN_PLATFORM": "kubernetes"}, ["KUBERNETES_SERVICE_HOST", "SONGGEN_K8S_DEPLOYMENT"]),
        (
            {
                "SONGGEN_PLATFORM": "kubernetes",
                "KUBERNETES_SERVICE_HOST": "10.0.0.1",
                "KUBERNETES_SERVICE_PORT": "https",
                "SONGGEN_K8S_DEPLOYMENT": "Studio_1",
                "SONGGEN_K8S_NAMESPACE": "a.b",
            },
            ["KUBERNETES_SERVICE_PORT", "SONGGEN_K8S_DEPLOYMENT='Studio_1'", "SONGGEN_K8S_NAMESPACE='a.b'"],
        ),
        ({"SONGGEN_COPY_MODELS": "1"}, ["SONGGEN_COPY_MODELS", "SONGGEN_WEIGHTS_DIR"]),
        ({"SONGGEN_WEIGHTS_DIR": "/data"}, ["SONGGEN_WEIGHTS_DIR=/data", "SONGGEN_DATA_DIR"]),
        (
            {"SONGGEN_DRAIN_SECONDS": "-5", "SONGGEN_DATA_BUCKET": "maybe"},
            ["SONGGEN_DRAIN_SECONDS", "SONGGEN_DATA_BUCKET"],
        ),
    ],
)
def test_each_bad_platform_or_storage_setting_is_named(
    boot: Boot, env: dict[str, str], named: list[str]
) -> None:
    with pytest.raises(boot.errors.ConfigError) as err:
        boot.config.Settings.from_env(env)
    for text in named:
        assert text in str(err.value)


def test_kubernetes_without_a_service_account_exits_2_before_anything_else(
    boot: Boot, base_env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {
        **base_env,
        "SONGGEN_PLATFORM": "kubernetes",
        "KUBERNETES_SERVICE_HOST": "127.0.0.1",
        "SONGGEN_K8S_DEPLOYMENT": "studio",
        "SONGGEN_K8S_SERVICEACCOUNT_DIR": str(tmp_path / "no-account"),
    }
    assert boot.main.main(["--prepare-only"], env) == 2
    out = capsys.readouterr().out
    assert "SONGGEN_K8S_NAMESPACE" in out
    assert not (tmp_path / "data").exists(), "nothing was laid out"

    account = tmp_path / "account"
    account.mkdir()
    (account / "namespace").write_text("songgen\n")
    (account / "ca.crt").write_text("not used here")
    with pytest.raises(boot.errors.ConfigError, match=r"SONGGEN_K8S_SERVICEACCOUNT_DIR=.* has no token"):
        boot.kube.resolve_target(
            boot.config.Settings.from_env({**env, "SONGGEN_K8S_SERVICEACCOUNT_DIR": str(account)}).kubernetes
        )
    (account / "token").write_text("t")
    target = boot.kube.resolve_target(
        boot.config.Settings.from_env({**env, "SONGGEN_K8S_SERVICEACCOUNT_DIR": str(account)}).kubernetes
    )
    assert target.namespace == "songgen", "from the service account's namespace file"
    assert target.path == "/apis/apps/v1/namespaces/songgen/deployments/studio/scale"
