"""A real Kubernetes control plane on 127.0.0.1 for tests, from the binaries `scripts/setup-kube.sh` builds.

etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok run as local processes on random
free loopback ports, with everything they need (data, keys, tokens, kubeconfigs, logs) in one temporary
directory that `stop()` removes. kwok plays the kubelet of fake nodes: pods scheduled there are marked
Running and Ready, but no container runs, and pod and service addresses are virtual: nothing may try to
reach them.

    with LocalCluster() as cluster:
        cluster.kubeconfig_path                 # token auth; trusts the API server's own certificate
        cluster.add_persistent_volume("songs", "10Gi")

`python -m lifecycle.kube_cluster` starts one for a person and keeps it until Ctrl-C.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from functools import partial
from pathlib import Path
from types import FrameType, TracebackType

import httpx

from lifecycle.kube_api import JsonObject, KubeApi
from lifecycle.kube_credentials import User, kubeconfig, service_account_signing_key, token_auth_file
from lifecycle.processes import ManagedProcess

BINARIES = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")
# Required by the API server for Service addresses. Virtual: nothing listens there, nothing connects.
SERVICE_CLUSTER_IP_RANGE = "10.96.0.0/16"

GPU_RESOURCE = "nvidia.com/gpu"
# What a GPU node pool typically carries, so workloads must select and tolerate it as they would for real.
GPU_NODE_LABELS = {"nvidia.com/gpu.present": "true"}
GPU_TAINT = {"key": GPU_RESOURCE, "value": "present", "effect": "NoSchedule"}
GPU_NODE = "gpu-node-0"
STORAGE_CLASS = "local-static"

# kwok manages only the nodes carrying this annotation, i.e. the ones this module creates.
_KWOK_ANNOTATION = ("kwok.x-k8s.io/node", "fake")
# Stage configs shipped beside the kwok binary: node start-up, lease heartbeats, pod lifecycle.
_KWOK_STAGES = ("node/fast", "node/heartbeat-with-lease", "pod/fast")
_NODE_LEASE_SECONDS = 40


class ClusterError(RuntimeError):
    """The cluster did not start, a component exited, or a wait ran out of time."""


def find_binaries(search_path: str | None = None) -> dict[str, Path]:
    """The control-plane programs on `search_path` (default: PATH); raises naming any that are missing."""
    found = {name: shutil.which(name, path=search_path) for name in BINARIES}
    missing = [name for name, where in found.items() if where is None]
    if missing:
        raise ClusterError(
            f"not on PATH: {', '.join(missing)}. `make setup` builds them (scripts/setup-kube.sh) and "
            "records their directories in .venv/.tools-path"
        )
    return {name: Path(where) for name, where in found.items() if where}


def free_loopback_ports(count: int) -> list[int]:
    """Ports free on 127.0.0.1 right now (all held open together, so they are distinct)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


def _node_is_schedulable(node: JsonObject | None) -> bool:
    """Ready, and the controller-manager has lifted the not-ready taint every new node starts with."""
    if node is None:
        return False
    conditions = node.get("status", {}).get("conditions", [])
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
    taints = node.get("spec", {}).get("taints", [])
    return ready and not any(t.get("key") == "node.kubernetes.io/not-ready" for t in taints)


class LocalCluster:
    """A throwaway cluster: `start()` (or `with`) brings it up with one GPU node, `stop()` removes it all."""

    def __init__(self, *, search_path: str | None = None, wait_timeout: float = 120.0) -> None:
        """`search_path` is where to find the binaries (default PATH); `wait_timeout` bounds every wait."""
        self._search_path = search_path
        self._wait_timeout = wait_timeout
        self._processes: dict[str, ManagedProcess] = {}
        self._dir: Path | None = None
        self._api: KubeApi | None = None
        self.startup_seconds = 0.0

    # ---- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> LocalCluster:
        """Starts the cluster and waits until it is usable. A LocalCluster starts once."""
        if self._dir is not None:
            raise RuntimeError("this LocalCluster was started before; make a new one")
        binaries = find_binaries(self._search_path)
        started = time.monotonic()
        self._dir = Path(tempfile.mkdtemp(prefix="songgen-kube-"))
        atexit.register(self.stop)
        try:
            self._start(binaries)
        except Exception as exc:
            report = self._failure_report(exc)
            self.stop()
            raise ClusterError(report) from exc
        except BaseException:  # Ctrl-C or SystemExit while starting: leave nothing behind either
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        return self

    def stop(self) -> None:
        """Stops every process this cluster started (newest first) and removes its directory. Idempotent."""
        for process in reversed(list(self._processes.values())):
            process.stop()
        if self._api is not None:
            self._api.close()
            self._api = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
        atexit.unregister(self.stop)

    # ---- what callers use --------------------------------------------------------------------

    @property
    def directory(self) -> Path:
        if self._dir is None:
            raise RuntimeError("the cluster is not started")
        return self._dir

    @property
    def kubeconfig_path(self) -> Path:
        """An admin kubeconfig (bearer token in it: keep its contents out of logs)."""
        return self.directory / "admin.kubeconfig"

    @property
    def kubeconfig_text(self) -> str:
        return self.kubeconfig_path.read_text()

    @property
    def api(self) -> KubeApi:
        if self._api is None:
            raise RuntimeError("the cluster is not started")
        return self._api

    @property
    def processes(self) -> Mapping[str, ManagedProcess]:
        return dict(self._processes)

    def add_node(self, name: str, *, gpus: int = 0, cpu: str = "16", memory: str = "64Gi") -> None:
        """Adds a kwok fake node and waits until pods can land on it; a GPU node has the GPU label and taint."""
        capacity = {"cpu": cpu, "memory": memory, "pods": "110"}
        labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"}
        if gpus:
            capacity[GPU_RESOURCE] = str(gpus)
            labels |= GPU_NODE_LABELS
        node = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": name, "labels": labels, "annotations": dict([_KWOK_ANNOTATION])},
            "spec": {"taints": [GPU_TAINT] if gpus else []},
            # The API server keeps a node's status on create, as it does for a registering kubelet.
            "status": {"capacity": capacity, "allocatable": capacity},
        }
        self.api.create("/api/v1/nodes", node)
        path = f"/api/v1/nodes/{name}"
        self._wait(f"node {name} to be Ready", lambda: _node_is_schedulable(self.api.get(path)))

    def remove_node(self, name: str) -> None:
        path = f"/api/v1/nodes/{name}"
        self.api.delete(path)
        self._wait(f"node {name} to be gone", lambda: self.api.get(path) is None)

    def add_persistent_volume(
        self, name: str, size: str, *, storage_class: str = STORAGE_CLASS, access_mode: str = "ReadWriteOnce"
    ) -> None:
        """A static hostPath volume of `size` in `storage_class`, ready to bind a matching claim.

        Retained on release (a deleted claim leaves it Released, not deleted): use a new one per claim.
        """
        host_dir = self.directory / "volumes" / name
        host_dir.mkdir(parents=True)
        volume = {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": name},
            "spec": {
                "capacity": {"storage": size},
                "accessModes": [access_mode],
                "persistentVolumeReclaimPolicy": "Retain",
                "storageClassName": storage_class,
                "hostPath": {"path": str(host_dir), "type": "Directory"},
            },
        }
        self.api.create("/api/v1/persistentvolumes", volume)

    def remove_persistent_volume(self, name: str) -> None:
        self.api.delete(f"/api/v1/persistentvolumes/{name}")

    # ---- start-up ----------------------------------------------------------------------------

    def _start(self, binaries: Mapping[str, Path]) -> None:
        base = self.directory
        etcd_port, etcd_peer_port, api_port, kcm_port, scheduler_port = free_loopback_ports(5)
        admin = User.with_new_token("admin", "system:masters")
        kcm = User.with_new_token("system:kube-controller-manager")
        scheduler = User.with_new_token("system:kube-scheduler")
        # kwok stands in for every fake node's kubelet; it ships no RBAC role for that, so it is an admin.
        kwok = User.with_new_token("kwok-controller", "system:masters")
        (base / "tokens.csv").write_text(token_auth_file([admin, kcm, scheduler, kwok]))
        (base / "service-account.key").write_bytes(service_account_signing_key())
        (base / "service-account.key").chmod(0o600)

        etcd_url = f"http://127.0.0.1:{etcd_port}"
        peer_url = f"http://127.0.0.1:{etcd_peer_port}"
        self._run(
            "etcd",
            binaries["etcd"],
            name="local",
            data_dir=base / "etcd",
            listen_client_urls=etcd_url,
            advertise_client_urls=etcd_url,
            listen_peer_urls=peer_url,
            initial_advertise_peer_urls=peer_url,
            initial_cluster=f"local={peer_url}",
            log_level="warn",
            unsafe_no_fsync="true",  # throwaway data: skip the disk flushes
        )
        self._wait("etcd to be healthy", lambda: _etcd_healthy(etcd_url))

        server = f"https://127.0.0.1:{api_port}"
        sa_key = base / "service-account.key"
        self._run(
            "kube-apiserver",
            binaries["kube-apiserver"],
            etcd_servers=etcd_url,
            bind_address="127.0.0.1",
            advertise_address="127.0.0.1",
            secure_port=api_port,
            cert_dir=base / "apiserver",  # the server makes its own self-signed certificate here
            token_auth_file=base / "tokens.csv",
            authorization_mode="RBAC",
            service_account_issuer="https://kubernetes.default.svc.cluster.local",
            service_account_key_file=sa_key,
            service_account_signing_key_file=sa_key,
            service_cluster_ip_range=SERVICE_CLUSTER_IP_RANGE,
            # No `kubernetes` Service endpoints: 127.0.0.1 is not a valid endpoint address anyway.
            endpoint_reconciler_type="none",
            profiling="false",
        )
        ca_file = base / "apiserver" / "apiserver.crt"
        self._wait("the API server's certificate", ca_file.exists)
        self._api = KubeApi(server, admin.token, ca_file)
        self._wait("the API server to be ready", self._api.healthy)

        ca_pem = ca_file.read_bytes()
        self.kubeconfig_path.write_text(kubeconfig(server, ca_pem, admin))
        self.kubeconfig_path.chmod(0o600)
        configs = {}
        for user, component in (
            (kcm, "kube-controller-manager"),
            (scheduler, "kube-scheduler"),
            (kwok, "kwok"),
        ):
            configs[component] = base / f"{component}.kubeconfig"
            configs[component].write_text(kubeconfig(server, ca_pem, user))
            configs[component].chmod(0o600)

        self._run(
            "kube-controller-manager",
            binaries["kube-controller-manager"],
            kubeconfig=configs["kube-controller-manager"],
            authentication_kubeconfig=configs["kube-controller-manager"],
            authorization_kubeconfig=configs["kube-controller-manager"],
            bind_address="127.0.0.1",
            secure_port=kcm_port,
            cert_dir=base / "kube-controller-manager",
            service_account_private_key_file=sa_key,
            use_service_account_credentials="true",
            root_ca_file=ca_file,
            # A claim created right after its volume would otherwise wait for the default 15 s resync.
            pvclaimbinder_sync_period="1s",
        )
        self._run(
            "kube-scheduler",
            binaries["kube-scheduler"],
            kubeconfig=configs["kube-scheduler"],
            authentication_kubeconfig=configs["kube-scheduler"],
            authorization_kubeconfig=configs["kube-scheduler"],
            bind_address="127.0.0.1",
            secure_port=scheduler_port,
            cert_dir=base / "kube-scheduler",
        )
        kwok_config = base / "kwok.yaml"
        kwok_config.write_text(_kwok_stages(binaries["kwok"]))
        self._run(
            "kwok",
            binaries["kwok"],
            # kwok also reads ~/.kwok/kwok.yaml when it exists: give it a home of its own.
            env_overrides={"HOME": str(base / "kwok-home")},
            config=kwok_config,
            kubeconfig=configs["kwok"],
            manage_nodes_with_annotation_selector="=".join(_KWOK_ANNOTATION),
            node_lease_duration_seconds=_NODE_LEASE_SECONDS,
        )

        for lease in ("kube-controller-manager", "kube-scheduler"):
            path = f"/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/{lease}"
            self._wait(f"{lease} to take its leader lease", partial(self._exists, path))
        # Pods are admitted only once their namespace's default service account exists.
        default_sa = "/api/v1/namespaces/default/serviceaccounts/default"
        self._wait("the default service account", partial(self._exists, default_sa))
        self.api.create(
            "/apis/storage.k8s.io/v1/storageclasses",
            {
                "apiVersion": "storage.k8s.io/v1",
                "kind": "StorageClass",
                "metadata": {"name": STORAGE_CLASS},
                "provisioner": "kubernetes.io/no-provisioner",
                "volumeBindingMode": "Immediate",
                "reclaimPolicy": "Retain",
            },
        )
        self.add_node(GPU_NODE, gpus=1)

    def _run(
        self,
        component: str,
        binary: Path,
        *,
        env_overrides: Mapping[str, str] | None = None,
        **flags: object,
    ) -> None:
        """Starts `binary` with `--flag-name=value` for each keyword (underscores become dashes)."""
        argv = [str(binary), *(f"--{key.replace('_', '-')}={value}" for key, value in flags.items())]
        env = {**os.environ, **env_overrides} if env_overrides else None
        log = self.directory / f"{component}.log"
        self._processes[component] = ManagedProcess(component, argv, log, env)

    def _exists(self, path: str) -> bool:
        return self.api.get(path) is not None

    def _wait(self, what: str, condition: Callable[[], bool]) -> None:
        """Polls `condition` until it holds, failing fast when a component exits or time runs out."""
        deadline = time.monotonic() + self._wait_timeout
        while True:
            for process in self._processes.values():
                if not process.running:
                    raise ClusterError(
                        f"{process.name} exited with code {process.exit_code} while waiting for {what}"
                    )
            if condition():
                return
            if time.monotonic() > deadline:
                raise ClusterError(f"timed out after {self._wait_timeout:.0f} s waiting for {what}")
            time.sleep(0.2)

    def _failure_report(self, exc: Exception) -> str:
        lines = [f"the local cluster did not start: {exc}"]
        for process in self._processes.values():
            state = "running" if process.running else f"exited with code {process.exit_code}"
            lines += [f"--- {process.name} ({state}), last lines of its log:", process.log_tail()]
        return "\n".join(lines)


def _etcd_healthy(url: str) -> bool:
    try:
        health: object = httpx.get(f"{url}/health", timeout=2).json().get("health")
    except (httpx.HTTPError, ValueError):
        return False
    return health == "true"


def _kwok_stages(kwok_binary: Path) -> str:
    """kwok's stage configs (installed beside its binary) as one multi-document YAML file."""
    stages = kwok_binary.resolve().parent / "stages"
    files = sorted(path for group in _KWOK_STAGES for path in (stages / group).glob("*.yaml"))
    if not files:
        raise ClusterError(f"no kwok stage configs in {stages}: run `make setup` (scripts/setup-kube.sh)")
    return "\n---\n".join(path.read_text() for path in files)


@contextlib.contextmanager
def _terminate_on_sigterm() -> Iterator[None]:
    """Turns SIGTERM into SystemExit, so `with LocalCluster()` blocks clean up as on Ctrl-C."""

    def raise_exit(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, raise_exit)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main() -> int:
    cluster = LocalCluster()
    with _terminate_on_sigterm():
        try:
            print("starting a local Kubernetes control plane on 127.0.0.1 ...", flush=True)
            cluster.start()
            taint = f"{GPU_TAINT['key']}={GPU_TAINT['value']}:{GPU_TAINT['effect']}"
            print(f"ready in {cluster.startup_seconds:.1f} s: {cluster.api.server}")
            print(f"node {GPU_NODE}: 1 x {GPU_RESOURCE}, taint {taint}")
            print(f"export KUBECONFIG={cluster.kubeconfig_path}")
            print("Ctrl-C stops it and removes everything.", flush=True)
            while all(p.running for p in cluster.processes.values()):
                time.sleep(1)
            for process in cluster.processes.values():
                if not process.running:
                    print(
                        f"{process.name} exited ({process.exit_code}):\n{process.log_tail()}", file=sys.stderr
                    )
            return 1
        except ClusterError as exc:
            print(exc, file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            return 0
        finally:
            cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
