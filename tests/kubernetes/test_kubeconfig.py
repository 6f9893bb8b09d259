"""Reading a kubeconfig the way kubectl does, for our own checks: contexts, merged files, tokens, exec plugins."""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
import yaml

from components.kubernetes.kubeconfig import KubeconfigError, connect, text_from_environment


def kubeconfig(
    user: Mapping[str, object], *, name: str = "lab", server: str = "https://127.0.0.1:6443"
) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": name,
            "clusters": [{"name": name, "cluster": {"server": server, "insecure-skip-tls-verify": True}}],
            "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
            "users": [{"name": name, "user": user}],
        }
    )


def test_a_bearer_token_becomes_the_authorization_header() -> None:
    connection = connect(kubeconfig({"token": "abc"}), None, "test")
    assert (connection.context, connection.server) == ("lab", "https://127.0.0.1:6443")
    assert connection.headers == {"Authorization": "Bearer abc"}


def test_an_exec_plugin_is_run_with_the_exec_info_and_its_token_used(tmp_path: Path) -> None:
    plugin = tmp_path / "plugin.py"
    plugin.write_text(
        "import json, os\n"
        "info = json.loads(os.environ['KUBERNETES_EXEC_INFO'])\n"
        "assert info['kind'] == 'ExecCredential' and os.environ['FROM_CONFIG'] == 'yes'\n"
        "print(json.dumps({'apiVersion': info['apiVersion'], 'kind': 'ExecCredential', 'status': {'token': 'from-plugin'}}))\n"
    )
    user = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": sys.executable,
            "args": [str(plugin)],
            "env": [{"name": "FROM_CONFIG", "value": "yes"}],
        }
    }
    assert connect(kubeconfig(user), None, "test").headers == {"Authorization": "Bearer from-plugin"}


def test_a_missing_or_failing_plugin_is_one_sentence_with_its_hint() -> None:
    user = {
        "exec": {
            "command": "gke-gcloud-auth-plugin-missing",
            "installHint": "gcloud components install gke-gcloud-auth-plugin",
        }
    }
    with pytest.raises(
        KubeconfigError,
        match="needs the credential plugin 'gke-gcloud-auth-plugin-missing': gcloud components install",
    ):
        connect(kubeconfig(user), None, "test")
    failing = {"exec": {"command": sys.executable, "args": ["-c", "import sys; sys.exit('token expired')"]}}
    with pytest.raises(KubeconfigError, match=r"failed \(exit 1\): token expired"):
        connect(kubeconfig(failing), None, "test")


def test_a_removed_auth_provider_is_refused_with_what_to_do() -> None:
    with pytest.raises(KubeconfigError, match=r"auth-provider 'gcp', which Kubernetes removed in 1\.26"):
        connect(kubeconfig({"auth-provider": {"name": "gcp"}}), None, "test")


def test_an_unknown_context_is_named() -> None:
    with pytest.raises(KubeconfigError, match="has no context named 'prod'"):
        connect(kubeconfig({"token": "abc"}), "prod", "KUBECONFIG")


def test_files_listed_in_kubeconfig_merge_the_first_name_winning(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.write_text(kubeconfig({"token": "first"}))
    second.write_text(kubeconfig({"token": "second"}, name="other"))
    merged = text_from_environment({"KUBECONFIG": f"{first}:{tmp_path / 'missing'}:{second}"})
    assert merged is not None
    assert connect(merged, None, "KUBECONFIG").headers["Authorization"] == "Bearer first"
    assert connect(merged, "other", "KUBECONFIG").headers["Authorization"] == "Bearer second"
    assert text_from_environment({"KUBECONFIG": str(tmp_path / "missing")}) is None


def test_client_certificate_data_is_loaded_without_a_file_left_behind(tmp_path: Path) -> None:
    # A certificate that does not parse proves the data reached the TLS context (and failed there).
    bogus = base64.b64encode(b"not a certificate").decode()
    text = yaml.safe_load(kubeconfig({"client-certificate-data": bogus, "client-key-data": bogus}))
    text["clusters"][0]["cluster"].pop("insecure-skip-tls-verify")
    with pytest.raises(Exception, match=r"PEM|SSL|ssl"):
        connect(json.dumps(text), None, "test")
