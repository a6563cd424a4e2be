"""Pure diff of a dry-run apply result against the live object, with attribution."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest

from gitops_nb.engine.diff import compare, field_changes, normalize, unified_diff
from gitops_nb.kube.fields import format_path
from gitops_nb.masking import LAST_APPLIED, MASK, MASK_DESIRED, MASK_LIVE
from gitops_nb.model import DiffStatus, FieldChange, ObjectRef

REF = ObjectRef("apps/v1", "Deployment", "shop", "web")
WEB_PATH = "spec.template.spec.containers[name=web]"


def _containers(entries: dict[str, Any]) -> dict[str, Any]:
    return {"f:spec": {"f:template": {"f:spec": {"f:containers": entries}}}}


def _update(manager: str, time: str, fields: dict[str, Any], sub: str = "") -> dict[str, Any]:
    entry = {
        "manager": manager,
        "operation": "Update",
        "apiVersion": "apps/v1",
        "time": time,
        "fieldsType": "FieldsV1",
        "fieldsV1": fields,
    }
    if sub:
        entry["subresource"] = sub
    return entry


# What the API server reports after `kubectl apply --server-side --field-manager gitops-nb`,
# then `kubectl scale --replicas 5`, `kubectl set image deploy/web web=nginx:1.27`,
# `kubectl label --overwrite deploy web app.kubernetes.io/version=hotfix tier=frontend` and a
# `kubectl edit` of LOG_LEVEL: each Update took the field it changed away from gitops-nb.
MANAGED_FIELDS = [
    {
        "manager": "gitops-nb",
        "operation": "Apply",
        "apiVersion": "apps/v1",
        "time": "2025-03-01T10:00:00Z",
        "fieldsType": "FieldsV1",
        "fieldsV1": {
            "f:metadata": {"f:labels": {"f:app.kubernetes.io/name": {}}},
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
                                    }
                                },
                            },
                            'k:{"name":"worker"}': {".": {}, "f:image": {}, "f:name": {}},
                        },
                        "f:tolerations": {},
                    },
                },
            },
        },
    },
    _update("kubectl", "2025-03-01T10:05:00Z", {"f:spec": {"f:replicas": {}}}, "scale"),
    _update(
        "kubectl-set", "2025-03-01T10:10:00Z", _containers({'k:{"name":"web"}': {"f:image": {}}})
    ),
    _update(
        "kubectl-label",
        "2025-03-01T10:15:00Z",
        {"f:metadata": {"f:labels": {"f:app.kubernetes.io/version": {}, "f:tier": {}}}},
    ),
    _update(
        "kubectl-edit",
        "2025-03-01T10:20:00Z",
        _containers({'k:{"name":"web"}': {"f:env": {'k:{"name":"LOG_LEVEL"}': {"f:value": {}}}}}),
    ),
    _update(
        "kube-controller-manager",
        "2025-03-01T10:20:05Z",
        {"f:status": {"f:availableReplicas": {}, "f:observedGeneration": {}, "f:replicas": {}}},
        "status",
    ),
]


def container(name: str, image: str, **extra: Any) -> dict[str, Any]:
    # Server-defaulted fields are in both the live object and the dry-run result.
    return {
        "name": name,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "resources": {},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        **extra,
    }


def desired_deployment() -> dict[str, Any]:
    """The dry-run apply result: Git's values merged into live, defaults filled in."""
    web = container(
        "web",
        "nginx:1.25",
        env=[{"name": "LOG_LEVEL", "value": "info"}, {"name": "MODE", "value": "prod"}],
        ports=[{"containerPort": 8080, "protocol": "TCP"}],
    )
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "shop",
            "labels": {
                "app.kubernetes.io/name": "web",
                "app.kubernetes.io/version": "1.0",
                "tier": "frontend",  # not ours: a forced apply leaves it alone
            },
            "annotations": {"deployment.kubernetes.io/revision": "3"},
            "uid": "7d1c7c7e-0b7e-4a52-9f0e-3c8a1c2b9f10",
            "resourceVersion": "4812",
            "generation": 4,
            "creationTimestamp": "2025-03-01T10:00:00Z",
            "managedFields": [],
        },
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app.kubernetes.io/name": "web"}},
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/name": "web"}},
                "spec": {
                    "containers": [web, container("worker", "busybox:1.36")],
                    "restartPolicy": "Always",
                    "tolerations": [{"key": "spot", "operator": "Exists", "effect": "NoSchedule"}],
                },
            },
        },
    }


def live_deployment() -> dict[str, Any]:
    live = desired_deployment()
    meta = live["metadata"]
    meta["labels"]["app.kubernetes.io/version"] = "hotfix"
    meta["annotations"][LAST_APPLIED] = '{"apiVersion":"apps/v1"}'
    meta["resourceVersion"] = "4790"
    meta["generation"] = 3
    meta["managedFields"] = copy.deepcopy(MANAGED_FIELDS)
    spec = live["spec"]
    spec["replicas"] = 5
    web = spec["template"]["spec"]["containers"][0]
    web["image"] = "nginx:1.27"
    web["env"][0]["value"] = "debug"
    live["status"] = {"replicas": 5, "availableReplicas": 5, "observedGeneration": 3}
    return live


def by_path(changes: tuple[FieldChange, ...]) -> dict[str, FieldChange]:
    return {c.path: c for c in changes}


# --- normalize ----------------------------------------------------------------------------


def test_normalize_drops_noise_and_copies() -> None:
    live = live_deployment()
    out = normalize(live)
    assert "status" not in out
    assert set(out["metadata"]) == {"name", "namespace", "labels", "annotations"}
    assert out["metadata"]["annotations"] == {"deployment.kubernetes.io/revision": "3"}
    out["spec"]["replicas"] = 0
    assert live["spec"]["replicas"] == 5 and "status" in live
    only_last_applied = {"metadata": {"name": "x", "annotations": {LAST_APPLIED: "{}"}}}
    assert normalize(only_last_applied) == {"metadata": {"name": "x"}}


# --- compare ------------------------------------------------------------------------------


def test_in_sync_when_only_status_and_metadata_noise_differ() -> None:
    desired = desired_deployment()
    live = desired_deployment()
    meta = live["metadata"]
    meta.update(resourceVersion="4790", generation=3, managedFields=copy.deepcopy(MANAGED_FIELDS))
    meta["uid"] = "another-uid"
    meta["creationTimestamp"] = "2024-01-01T00:00:00Z"
    meta["annotations"][LAST_APPLIED] = '{"apiVersion":"apps/v1"}'
    live["status"] = {"replicas": 3, "availableReplicas": 3, "observedGeneration": 3}
    result = compare(REF, desired, live)
    assert result.status is DiffStatus.IN_SYNC
    assert result.changes == ()
    assert result.diff_text == ""


def test_drifted_fields_name_who_changed_them() -> None:
    result = compare(REF, desired_deployment(), live_deployment())
    assert result.status is DiffStatus.DRIFTED
    changes = by_path(result.changes)
    assert set(changes) == {
        "spec.replicas",
        f"{WEB_PATH}.image",
        f"{WEB_PATH}.env[name=LOG_LEVEL].value",
        'metadata.labels["app.kubernetes.io/version"]',
    }
    replicas = changes["spec.replicas"]
    assert (replicas.live, replicas.desired) == (5, 3)
    assert (replicas.manager, replicas.operation, replicas.time) == (
        "kubectl",
        "Update",
        "2025-03-01T10:05:00Z",
    )
    image = changes[f"{WEB_PATH}.image"]
    assert (image.live, image.desired, image.manager) == ("nginx:1.27", "nginx:1.25", "kubectl-set")
    assert changes[f"{WEB_PATH}.env[name=LOG_LEVEL].value"].manager == "kubectl-edit"
    label = changes['metadata.labels["app.kubernetes.io/version"]']
    assert (label.live, label.desired, label.manager) == ("hotfix", "1.0", "kubectl-label")
    assert result.diff_text.startswith(
        "--- live/Deployment/shop/web\n+++ git/Deployment/shop/web\n"
    )
    assert "-  replicas: 5\n+  replicas: 3\n" in result.diff_text


def test_missing_object_is_all_additions() -> None:
    result = compare(REF, desired_deployment(), None)
    assert result.status is DiffStatus.MISSING
    assert result.changes == ()
    lines = result.diff_text.splitlines()
    assert lines[:2] == ["--- live/Deployment/shop/web", "+++ git/Deployment/shop/web"]
    assert lines[2].startswith("@@ -0,0 +1,")
    assert all(line.startswith("+") for line in lines[3:])
    assert "+  replicas: 3" in lines
    assert not any("resourceVersion" in line for line in lines)


def test_extraneous_object() -> None:
    result = compare(REF, None, live_deployment())
    assert result.status is DiffStatus.EXTRANEOUS
    assert result.status.is_drift
    body = result.diff_text.splitlines()[3:]
    assert body and all(line.startswith("-") for line in body)


def test_compare_needs_one_side() -> None:
    with pytest.raises(ValueError, match="Deployment/shop/web"):
        compare(REF, None, None)


def test_keyed_list_container_added_removed_and_env_by_name() -> None:
    live = live_deployment()
    desired = live_deployment()  # identical, then Git's changes:
    desired["metadata"]["managedFields"] = []
    pod = desired["spec"]["template"]["spec"]
    pod["containers"] = [c for c in pod["containers"] if c["name"] != "worker"]
    pod["containers"].append(container("metrics", "exporter:2"))
    web_env = pod["containers"][0]["env"]
    web_env.reverse()  # order alone is not drift for a keyed list
    web_env[0]["value"] = "staging"  # MODE
    result = compare(REF, desired, live)
    changes = by_path(result.changes)
    assert set(changes) == {
        "spec.template.spec.containers[name=worker]",
        "spec.template.spec.containers[name=metrics]",
        f"{WEB_PATH}.env[name=MODE].value",
    }
    removed = changes["spec.template.spec.containers[name=worker]"]
    assert removed.desired is None and removed.live["image"] == "busybox:1.36"
    assert removed.manager == "gitops-nb"
    added = changes["spec.template.spec.containers[name=metrics]"]
    assert added.live is None and added.desired["image"] == "exporter:2"
    assert added.manager is None  # nobody owns what is not there
    mode = changes[f"{WEB_PATH}.env[name=MODE].value"]
    assert (mode.live, mode.desired, mode.manager) == ("prod", "staging", "gitops-nb")


def test_ports_keyed_like_fieldsv1_and_index_fallback() -> None:
    live = live_deployment()
    desired = copy.deepcopy(live)
    pod = desired["spec"]["template"]["spec"]
    pod["containers"][0]["ports"][0]["name"] = "http"
    pod["tolerations"][0]["effect"] = "NoExecute"  # no merge key: compared by index
    changes = by_path(compare(REF, desired, live).changes)
    port = changes[f"{WEB_PATH}.ports[containerPort=8080,protocol=TCP].name"]
    assert (port.live, port.desired, port.manager) == (None, "http", None)
    toleration = changes["spec.template.spec.tolerations[0].effect"]
    assert toleration.manager == "gitops-nb"  # atomic list, owned at its node


def test_list_of_scalars_is_one_leaf() -> None:
    live = {"spec": {"args": ["--a", "--b"]}}
    desired = {"spec": {"args": ["--a", "--c", "--d"]}}
    assert field_changes(live, desired) == [
        (("spec", "args"), ["--a", "--b"], ["--a", "--c", "--d"])
    ]


def test_duplicate_names_fall_back_to_index() -> None:
    live = {"items": [{"name": "a", "v": 1}, {"name": "a", "v": 2}]}
    desired = {"items": [{"name": "a", "v": 1}, {"name": "a", "v": 3}]}
    assert field_changes(live, desired) == [(("items", 1, "v"), 2, 3)]


def test_volume_mounts_keyed_by_mount_path() -> None:
    live = {"volumeMounts": [{"name": "data", "mountPath": "/a", "readOnly": True}]}
    desired = {"volumeMounts": [{"name": "data", "mountPath": "/a", "readOnly": False}]}
    [(path, _, _)] = field_changes(live, desired)
    assert format_path(path) == "volumeMounts[mountPath=/a].readOnly"


# --- Secrets ------------------------------------------------------------------------------


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


SECRET_REF = ObjectRef("v1", "Secret", "shop", "db")
OLD, NEW, SAME = "hunter2-old-pw", "correct-horse-new", "unchanged-user-7"


def secret(password: str, extra: dict[str, str] | None = None) -> dict[str, Any]:
    data = {"password": b64(password), "user": b64(SAME), **(extra or {})}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": "db",
            "namespace": "shop",
            "annotations": {LAST_APPLIED: json.dumps({"stringData": {"password": password}})},
            "managedFields": [
                _update("kubectl-edit", "2025-03-02T08:00:00Z", {"f:data": {"f:password": {}}})
            ],
        },
        "data": data,
    }


def assert_no_secret(text: str) -> None:
    for value in (OLD, NEW, SAME, "brand-new-key-9"):
        assert value not in text
        assert b64(value) not in text


def test_secret_changes_are_masked_everywhere() -> None:
    live = secret(OLD)
    desired = secret(NEW, {"apiKey": b64("brand-new-key-9")})
    result = compare(SECRET_REF, desired, live)
    assert result.status is DiffStatus.DRIFTED
    changes = by_path(result.changes)
    assert set(changes) == {"data.password", "data.apiKey"}
    password = changes["data.password"]
    assert (password.live, password.desired) == (MASK_LIVE, MASK_DESIRED)
    assert password.manager == "kubectl-edit"
    assert (changes["data.apiKey"].live, changes["data.apiKey"].desired) == (None, MASK)
    assert_no_secret(json.dumps(result.to_dict()))
    assert_no_secret(repr(result))
    assert_no_secret(result.diff_text)
    assert f"-  password: '{MASK_LIVE}'" in result.diff_text


def test_secret_value_change_is_drift_but_equal_values_are_in_sync() -> None:
    assert compare(SECRET_REF, secret(OLD), secret(OLD)).status is DiffStatus.IN_SYNC
    missing = compare(SECRET_REF, secret(NEW), None)
    assert missing.status is DiffStatus.MISSING
    assert_no_secret(missing.diff_text)
    assert f"+  password: '{MASK}'" in missing.diff_text
    extraneous = compare(SECRET_REF, None, secret(OLD))
    assert_no_secret(extraneous.diff_text)


def test_secret_whole_data_added_is_masked() -> None:
    live = secret(OLD)
    del live["data"]
    result = compare(SECRET_REF, secret(NEW), live)
    [change] = result.changes
    assert change.path == "data" and change.live is None
    assert change.desired == {"password": MASK, "user": MASK}
    assert_no_secret(json.dumps(result.to_dict()) + result.diff_text)


# --- unified_diff -------------------------------------------------------------------------


def test_unified_diff_headers_and_sorted_yaml() -> None:
    text = unified_diff(REF, live_deployment(), desired_deployment())
    lines = text.splitlines()
    assert lines[0] == "--- live/Deployment/shop/web"
    assert lines[1] == "+++ git/Deployment/shop/web"
    assert lines[2].startswith("@@ ")
    assert "-    app.kubernetes.io/version: hotfix" in lines
    assert "+    app.kubernetes.io/version: '1.0'" in lines
    assert not any("managedFields" in line or "status:" in line for line in lines)
    assert text.endswith("\n")


def test_unified_diff_of_missing_object_has_sorted_keys() -> None:
    lines = unified_diff(REF, None, desired_deployment()).splitlines()
    top = [line for line in lines[3:] if not line.startswith("+ ")]
    assert top == ["+apiVersion: apps/v1", "+kind: Deployment", "+metadata:", "+spec:"]


def test_unified_diff_identical_is_empty() -> None:
    assert unified_diff(REF, live_deployment(), live_deployment()) == ""
