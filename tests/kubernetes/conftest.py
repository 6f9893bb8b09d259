"""A real local Kubernetes cluster (lifecycle.kube_cluster), one per test session.

Another test directory reuses it by importing the fixture into its own conftest.py:
`from tests.kubernetes.conftest import kube_cluster`. However many directories do, the session starts
one cluster and stops it at the end.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lifecycle.kube_cluster import LocalCluster

_session_cluster: list[LocalCluster] = []


@pytest.fixture(scope="session")
def kube_cluster() -> Iterator[LocalCluster]:
    if _session_cluster:  # another directory's copy of this fixture started it
        yield _session_cluster[0]
        return
    with LocalCluster() as cluster:
        _session_cluster.append(cluster)
        yield cluster
        _session_cluster.clear()
