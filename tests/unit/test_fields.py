"""managedFields (FieldsV1) parsing, path formatting and ownership lookup."""

from __future__ import annotations

from typing import Any

import pytest

from gitops_nb.kube.fields import (
    Key,
    Owner,
    Value,
    format_path,
    owner_of,
    owners_index,
    parse_fields_v1,
)

WEB = Key.of({"name": "web"})
CONTAINERS = ("spec", "template", "spec", "containers")

# metadata.managedFields of Deployment shop/web as the API server reports it after:
# `kubectl apply --server-side --field-manager gitops-nb` (10:00), `kubectl scale --replicas 5`
# (10:05), `kubectl set image deploy/web web=nginx:1.27` (10:10), `kubectl label deploy web
# tier=frontend` (10:15), `kubectl edit` of env LOG_LEVEL (10:20), and `kubectl patch` adding a
# sidecar container (10:25). Updates took replicas, image and LOG_LEVEL's value away from the
# applier, so gitops-nb's entry no longer lists them.
MANAGED_FIELDS: list[dict[str, Any]] = [
    {
        "manager": "gitops-nb",
        "operation": "Apply",
        "apiVersion": "apps/v1",
        "time": "2025-03-01T10:00:00Z",
        "fieldsType": "FieldsV1",
        "fieldsV1": {
            "f:metadata": {
                "f:labels": {
                    "f:app.kubernetes.io/name": {},
                    "f:applyset.kubernetes.io/part-of": {},
                }
            },
            "f:spec": {
                "f:selector": {},
                "f:template": {
                    "f:metadata": {"f:labels": {"f:app.kubernetes.io/name": {}}},
                    "f:spec": {
                        "f:containers": {
                            'k:{"name":"web"}': {
                                ".": {},
                                "f:env": {
                                    'k:{"name":"LOG_LEVEL"}': {".": {}, "f:name": {}},
                                    'k:{"name":"MODE"}': {".": {}, "f:name": {}, "f:value": {}},
                                },
                                "f:name": {},
                                "f:ports": {
                                    'k:{"containerPort":8080,"protocol":"TCP"}': {
                                        ".": {},
                                        "f:containerPort": {},
                                        "f:name": {},
                                    }
                                },
                                "f:resources": {"f:limits": {"f:memory": {}}},
                            }
                        },
                        "f:tolerations": {},
                    },
                },
            },
        },
    },
    {
        "manager": "kube-controller-manager",
        "operation": "Update",
        "apiVersion": "apps/v1",
        "time": "2025-03-01T10:25:03Z",
        "fieldsType": "FieldsV1",
        "fieldsV1": {
            "f:metadata": {"f:annotations": {".": {}, "f:deployment.kubernetes.io/revision": {}}}
        },
    },
    {
        "manager": "kubectl",
        "operation": "Update",
        "apiVersion": "apps/v1",
        "time": "2025-03-01T10:05:00Z",
        "fieldsType": "FieldsV1",
        "fieldsV1": {"f:spec": {"f:replicas": {}}},
        "subresource": "scale",
    },
    {
        "manager": "kubectl-set",
        "operation": "Update",
        "apiVersion": "apps/v1",
        "time": "2025-03-01T10:10:00Z",
        "fieldsType": "FieldsV1",
        "fieldsV1": {
            "f:spec": {
                "f:template": {
                    "f:spec": {"f:containers": {'k:{"name":"web"}': {"f:image": {}}}},
                }
            }
        },
    },
    {
        "manager": "kubectl-label",
        "operation": "Update",
        "apiVersion": "apps/v1",
        "time": "2025-03-01T10:15:00Z",
        "fieldsType": "FieldsV1",
        "fieldsV1": {"f:metadata": {"f:labels": {"f:tier": {}}}},
    },
    {
        "manager": "kubectl-edit",
        "operation": "Update",
        "apiVersion": "apps/v1",
        "time": "2025-03-01T10:20:00Z",
        "fieldsType": "FieldsV1",
        "fieldsV1": {
            "f:spec": {
                "f:template": {
                    "f:spec": {
                        "f:containers": {
                            'k:{"name":"web"}': {
                                "f:env": {'k:{"name":"LOG_LEVEL"}': {"f:value": {}}}
                            }
                        }
                    }
                }
            }
        },
    },
    {
        "manager": "kubectl-patch",
        "operation": "Update",
        "apiVersion": "apps/v1",
        "time": "2025-03-01T10:25:00Z",
        "fieldsType": "FieldsV1",
        "fieldsV1": {
            "f:spec": {
                "f:template": {
                    "f:spec": {
                        "f:containers": {
                            'k:{"name":"sidecar"}': {
                                ".": {},
                                "f:image": {},
                                "f:imagePullPolicy": {},
                                "f:name": {},
                                "f:resources": {},
                                "f:terminationMessagePath": {},
                                "f:terminationMessagePolicy": {},
                            }
                        }
                    }
                }
            }
        },
    },
    {
        "manager": "kube-controller-manager",
        "operation": "Update",
        "apiVersion": "apps/v1",
        "time": "2025-03-01T10:25:04Z",
        "fieldsType": "FieldsV1",
        "fieldsV1": {
            "f:status": {
                "f:availableReplicas": {},
                "f:conditions": {
                    ".": {},
                    'k:{"type":"Available"}': {
                        ".": {},
                        "f:lastTransitionTime": {},
                        "f:status": {},
                        "f:type": {},
                    },
                },
                "f:observedGeneration": {},
                "f:replicas": {},
            }
        },
        "subresource": "status",
    },
]


def manager(path: tuple[Any, ...], fields: Any = MANAGED_FIELDS) -> str | None:
    owner = owner_of(fields, path)
    return owner.manager if owner else None


# --- parse --------------------------------------------------------------------------------


def test_parse_lists_leaves_and_dot_nodes_only() -> None:
    paths = parse_fields_v1(MANAGED_FIELDS[0]["fieldsV1"])
    env = (*CONTAINERS, WEB, "env")
    assert ("spec", "selector") in paths
    assert ("metadata", "labels", "app.kubernetes.io/name") in paths
    assert (*CONTAINERS, WEB) in paths  # "." marks the item itself
    assert (*env, Key.of({"name": "LOG_LEVEL"}), "name") in paths
    port = Key((("containerPort", 8080), ("protocol", "TCP")))
    assert (*CONTAINERS, WEB, "ports", port, "containerPort") in paths
    # Intermediate nodes without "." are not members.
    assert ("spec",) not in paths
    assert (*CONTAINERS,) not in paths
    assert (*CONTAINERS, WEB, "image") not in paths
    assert len(paths) == 16


def test_parse_set_values_and_indexes() -> None:
    paths = parse_fields_v1(
        {
            "f:metadata": {"f:finalizers": {".": {}, 'v:"example.com/protect"': {}}},
            "f:args": {"i:0": {}},
        }
    )
    assert paths == {
        ("metadata", "finalizers"),
        ("metadata", "finalizers", Value("example.com/protect")),
        ("args", 0),
    }


def test_parse_key_is_order_insensitive_and_typed() -> None:
    paths = parse_fields_v1({"f:ports": {'k:{"protocol":"TCP","port":80}': {"f:targetPort": {}}}})
    key = Key.of({"port": 80, "protocol": "TCP"})
    assert paths == {("ports", key, "targetPort")}
    assert key.fields == (("port", 80), ("protocol", "TCP"))


@pytest.mark.parametrize("bad", ["x:foo", 'k:{"name":', "k:[1]", "i:one"])
def test_parse_rejects_malformed_elements(bad: str) -> None:
    with pytest.raises(ValueError, match="invalid FieldsV1 path element"):
        parse_fields_v1({bad: {}})


# --- format -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ((*CONTAINERS, WEB, "image"), "spec.template.spec.containers[name=web].image"),
        (
            ("spec", "ports", Key.of({"port": 80, "protocol": "TCP"}), "targetPort"),
            "spec.ports[port=80,protocol=TCP].targetPort",
        ),
        (
            ("metadata", "labels", "app.kubernetes.io/name"),
            'metadata.labels["app.kubernetes.io/name"]',
        ),
        (("metadata", "annotations", "example.com/x"), 'metadata.annotations["example.com/x"]'),
        (("spec", "args", 3), "spec.args[3]"),
        (("metadata", "finalizers", Value("kubernetes")), "metadata.finalizers[=kubernetes]"),
        (("spec", "replicas"), "spec.replicas"),
        (("data", "tls.crt"), 'data["tls.crt"]'),
    ],
)
def test_format_path(path: tuple[Any, ...], text: str) -> None:
    assert format_path(path) == text


# --- ownership ----------------------------------------------------------------------------


def test_owner_exact_after_kubectl_commands() -> None:
    assert owner_of(MANAGED_FIELDS, ("spec", "replicas")) == Owner(
        "kubectl", "Update", "2025-03-01T10:05:00Z", "scale"
    )
    assert manager((*CONTAINERS, WEB, "image")) == "kubectl-set"
    assert manager(("metadata", "labels", "tier")) == "kubectl-label"
    log_level = (*CONTAINERS, WEB, "env", Key.of({"name": "LOG_LEVEL"}), "value")
    assert manager(log_level) == "kubectl-edit"
    assert manager(("metadata", "labels", "app.kubernetes.io/name")) == "gitops-nb"
    assert manager(("status", "replicas")) == "kube-controller-manager"


def test_owner_prefix_for_atomic_fields() -> None:
    # selector and tolerations are atomic: owned whole at their own node.
    assert manager(("spec", "selector", "matchLabels", "app.kubernetes.io/name")) == "gitops-nb"
    assert manager(("spec", "template", "spec", "tolerations", 0, "key")) == "gitops-nb"


def test_owner_granular_parent_does_not_claim_unowned_child() -> None:
    # The web container item is owned by gitops-nb, but nobody owns its (defaulted) field.
    assert manager((*CONTAINERS, WEB, "terminationMessagePath")) is None
    assert manager(("spec", "paused")) is None


def test_owner_descendant_for_whole_container() -> None:
    sidecar = Key.of({"name": "sidecar"})
    assert manager((*CONTAINERS, sidecar)) == "kubectl-patch"  # exact "." member
    # A node nobody owns itself falls back to the owners below it (most recent first).
    assert manager(("metadata", "labels")) == "kubectl-label"
    assert manager(("spec", "template", "spec", "containers")) == "kubectl-patch"


def test_owner_key_subset_matches_fuller_server_key() -> None:
    by_port = Key.of({"containerPort": 8080})
    assert manager((*CONTAINERS, WEB, "ports", by_port, "name")) == "gitops-nb"
    other = Key.of({"containerPort": 9090})
    assert manager((*CONTAINERS, WEB, "ports", other, "name")) is None
    # A path key with a field the server key lacks does not match.
    extra = Key.of({"containerPort": 8080, "protocol": "TCP", "hostIP": "0.0.0.0"})
    assert manager((*CONTAINERS, WEB, "ports", extra, "name")) is None


def _entry(manager: str, operation: str, time: str | None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "manager": manager,
        "operation": operation,
        "fieldsType": "FieldsV1",
        "fieldsV1": {"f:spec": {"f:replicas": {}}},
    }
    if time is not None:
        entry["time"] = time
    return entry


def test_shared_ownership_prefers_most_recent_then_update() -> None:
    older = _entry("argo", "Apply", "2025-01-01T00:00:00Z")
    newer = _entry("gitops-nb", "Apply", "2025-02-01T00:00:00Z")
    assert manager(("spec", "replicas"), [newer, older]) == "gitops-nb"
    assert manager(("spec", "replicas"), [older, newer]) == "gitops-nb"
    same_apply = _entry("gitops-nb", "Apply", "2025-02-01T00:00:00Z")
    same_update = _entry("hpa", "Update", "2025-02-01T00:00:00Z")
    assert manager(("spec", "replicas"), [same_apply, same_update]) == "hpa"
    assert manager(("spec", "replicas"), [_entry("x", "Apply", None), older]) == "argo"


def test_owner_of_handles_absent_and_foreign_entries() -> None:
    assert owner_of(None, ("spec",)) is None
    assert owner_of([], ("spec", "replicas")) is None
    odd = [
        {"manager": "old", "operation": "Update", "fieldsType": "FieldsV0", "fieldsV1": {}},
        {"manager": "broken", "operation": "Update", "fieldsV1": {"x:spec": {}}},
        _entry("ok", "Update", "2025-01-01T00:00:00Z"),
    ]
    assert manager(("spec", "replicas"), odd) == "ok"


def test_owners_index_matches_owner_of() -> None:
    index = owners_index(MANAGED_FIELDS)
    for path in [("spec", "replicas"), (*CONTAINERS, WEB, "image"), ("spec", "nothing")]:
        assert index.owner_of(path) == owner_of(MANAGED_FIELDS, path)
