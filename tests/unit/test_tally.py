"""The request tally names each request's verb and resource, and counts body bytes."""

from __future__ import annotations

import pytest

from gitops_nb.kube.tally import Tally, request_kind


@pytest.mark.parametrize(
    ("method", "path", "dry", "kind"),
    [
        ("GET", "/apis/coordination.k8s.io/v1/namespaces/p/leases", False, "list leases"),
        ("GET", "/apis/coordination.k8s.io/v1/namespaces/p/leases/x", False, "get leases"),
        ("PUT", "/apis/coordination.k8s.io/v1/namespaces/p/leases/x", False, "update leases"),
        ("POST", "/api/v1/namespaces/p/configmaps", False, "create configmaps"),
        ("PATCH", "/apis/apps/v1/namespaces/p/deployments/w", True, "patch deployments (dry-run)"),
        ("GET", "/api/v1/namespaces", False, "list namespaces"),
        ("GET", "/api/v1/namespaces/p", False, "get namespaces"),
        ("DELETE", "/api/v1/namespaces/p/configmaps/c", False, "delete configmaps"),
        (
            "POST",
            "/api/v1/namespaces/p/serviceaccounts/d/token",
            False,
            "create serviceaccounts/token",
        ),
        ("GET", "/apis", False, "get discovery"),
        ("GET", "/api/v1", False, "get discovery"),
    ],
)
def test_request_kind_names_verb_and_resource(method: str, path: str, dry: bool, kind: str) -> None:
    assert request_kind(method, path, dry) == kind


def test_tally_counts_bytes_and_kinds() -> None:
    t = Tally()
    t.note("GET", "/api/v1/namespaces/p/configmaps", False, 0, 100)
    t.note("PUT", "/api/v1/namespaces/p/configmaps/c", False, 40, 60)
    t.note("GET", "/api/v1/namespaces/q/configmaps", False, 0, 7)
    assert t.snapshot() == {
        "bytes_sent": 40,
        "bytes_received": 167,
        "by": {"list configmaps": 2, "update configmaps": 1},
    }
    t.reset()
    assert t.snapshot() == {"bytes_sent": 0, "bytes_received": 0, "by": {}}
