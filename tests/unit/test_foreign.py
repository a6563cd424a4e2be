"""Foreign additions from managedFields, and the managedFields hand-over that removes them."""

from __future__ import annotations

from typing import Any

from gitops_nb.engine.correct import ownership_patch, take_ownership
from gitops_nb.engine.foreign import additions, without
from gitops_nb.ignore import DEFAULT, IgnoreRules
from gitops_nb.kube.fields import Key
from gitops_nb.model import FieldChange, ObjectRef, SyncRun

REF = ObjectRef("apps/v1", "Deployment", "prod", "web")
OURS = {
    "manager": "gitops-nb",
    "operation": "Apply",
    "apiVersion": "apps/v1",
    "time": "2026-11-28T10:00:00Z",
    "fieldsType": "FieldsV1",
    "fieldsV1": {
        "f:metadata": {"f:labels": {"f:app": {}}},
        "f:spec": {
            "f:template": {
                "f:spec": {
                    "f:containers": {'k:{"name":"web"}': {".": {}, "f:image": {}, "f:name": {}}}
                }
            }
        },
    },
}


def _entry(manager: str, fields: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "manager": manager,
        "operation": "Update",
        "apiVersion": "apps/v1",
        "time": "2026-11-28T11:00:00Z",
        "fieldsType": "FieldsV1",
        "fieldsV1": fields,
        **extra,
    }


MANIFEST = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "labels": {"app": "web"}},
    "spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx"}]}}},
}


def live(*entries: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "prod",
            "resourceVersion": "7",
            "labels": {"app": "web", "team": "ops"},
            "annotations": {"deployment.kubernetes.io/revision": "1"},
            "managedFields": [OURS, *entries],
        },
        "spec": {
            "replicas": 1,
            "template": {
                "spec": {
                    "containers": [
                        {"name": "web", "image": "nginx", "env": [{"name": "A", "value": "1"}]},
                        {"name": "proxy", "image": "envoy"},
                    ]
                }
            },
        },
        "status": {"replicas": 1},
    }


LABEL = _entry("kubectl-label", {"f:metadata": {"f:labels": {"f:team": {}}}})
ENV = _entry(
    "kubectl-set",
    {
        "f:spec": {
            "f:template": {
                "f:spec": {
                    "f:containers": {
                        'k:{"name":"web"}': {
                            "f:env": {
                                ".": {},
                                'k:{"name":"A"}': {".": {}, "f:name": {}, "f:value": {}},
                            }
                        }
                    }
                }
            }
        }
    },
)
SIDECAR = _entry(
    "kubectl-patch",
    {
        "f:spec": {
            "f:template": {
                "f:spec": {
                    "f:containers": {'k:{"name":"proxy"}': {".": {}, "f:image": {}, "f:name": {}}}
                }
            }
        }
    },
)
CONTROLLER = _entry(
    "kube-controller-manager",
    {"f:metadata": {"f:annotations": {"f:deployment.kubernetes.io/revision": {}}}},
)
STATUS = _entry("kubectl-edit", {"f:status": {"f:replicas": {}}}, subresource="status")


def found(obj: dict[str, Any], rules: IgnoreRules = DEFAULT) -> list[tuple[str, Any, str, str]]:
    out = additions(REF, MANIFEST, obj, field_manager="gitops-nb", rules=rules)
    return [(a.change.path, a.change.live, a.change.manager or "", a.change.op) for a in out]


def test_added_label_env_entry_and_sidecar_are_found_at_the_right_depth() -> None:
    assert found(live(LABEL, ENV, SIDECAR, CONTROLLER, STATUS)) == [
        ("metadata.labels.team", "ops", "kubectl-label", "added"),
        (
            "spec.template.spec.containers[name=proxy]",
            {"name": "proxy", "image": "envoy"},
            "kubectl-patch",
            "added",
        ),
        (
            "spec.template.spec.containers[name=web].env[name=A]",
            {"name": "A", "value": "1"},
            "kubectl-set",
            "added",
        ),
    ]


def test_system_managers_status_and_our_own_fields_are_not_additions() -> None:
    assert found(live(CONTROLLER, STATUS)) == []


def test_ignore_rules_suppress_exactly_their_field() -> None:
    rules = IgnoreRules.of(["manager=kubectl-label", "path=spec.template.spec.containers[*].env"])
    assert [p for p, *_ in found(live(LABEL, ENV, SIDECAR), rules)] == [
        "spec.template.spec.containers[name=proxy]"
    ]


def test_known_default_is_shown_as_desired() -> None:
    ref = ObjectRef("batch/v1", "CronJob", "prod", "backup")
    obj = {
        "metadata": {
            "managedFields": [_entry("kubectl-patch", {"f:spec": {"f:suspend": {}}})],
        },
        "spec": {"suspend": True, "schedule": "* * * * *"},
    }
    manifest = {"spec": {"schedule": "* * * * *"}}
    [a] = additions(ref, manifest, obj, field_manager="gitops-nb", rules=DEFAULT)
    assert (a.change.path, a.change.live, a.change.desired) == ("spec.suspend", True, False)


def test_without_removes_items_and_keys() -> None:
    obj = live()
    web = Key.of({"name": "web"})
    out = without(
        obj, [("metadata", "labels", "team"), ("spec", "template", "spec", "containers", web)]
    )
    assert out["metadata"]["labels"] == {"app": "web"}
    assert [c["name"] for c in out["spec"]["template"]["spec"]["containers"]] == ["proxy"]
    assert obj["metadata"]["labels"]["team"] == "ops"  # a copy


def test_take_ownership_moves_the_added_fields_into_our_apply_entry() -> None:
    obj = live(LABEL, ENV, SIDECAR, CONTROLLER)
    adds = additions(REF, MANIFEST, obj, field_manager="gitops-nb", rules=DEFAULT)
    entries = take_ownership(
        obj["metadata"]["managedFields"], adds, field_manager="gitops-nb", api_version="apps/v1"
    )
    managers = [e["manager"] for e in entries]
    assert managers == ["gitops-nb", "kube-controller-manager"]  # emptied entries dropped
    ours = entries[0]["fieldsV1"]
    assert ours["f:metadata"]["f:labels"] == {"f:app": {}, "f:team": {}}
    containers = ours["f:spec"]["f:template"]["f:spec"]["f:containers"]
    assert set(containers) == {'k:{"name":"web"}', 'k:{"name":"proxy"}'}
    assert 'k:{"name":"A"}' in containers['k:{"name":"web"}']["f:env"]
    assert entries[1] == CONTROLLER  # system managers are never touched
    patch = ownership_patch(obj, adds, "gitops-nb")
    assert patch["metadata"]["resourceVersion"] == "7"


def test_take_ownership_creates_our_entry_when_we_have_none() -> None:
    entries = take_ownership(
        [LABEL],
        additions(REF, MANIFEST, live(LABEL), field_manager="gitops-nb", rules=DEFAULT),
        field_manager="gitops-nb",
        api_version="apps/v1",
    )
    [ours] = entries
    assert ours["operation"] == "Apply" and ours["fieldsV1"] == {
        "f:metadata": {"f:labels": {"f:team": {}}}
    }


def test_op_round_trips_and_old_records_load() -> None:
    change = FieldChange("data.x", "1", None, "kubectl-patch", "Update", None, op="added")
    assert FieldChange.from_dict(change.to_dict()) == change
    assert change.changed_by == "added by kubectl-patch"
    old = {"path": "spec.replicas", "live": 5, "desired": 3}
    assert FieldChange.from_dict(old).op == "changed"
    record = {
        "schema": 1,
        "run_id": "r",
        "app": "a",
        "started": "2026-11-28T10:00:00Z",
        "finished": "2026-11-28T10:00:01Z",
        "duration_s": 1.0,
        "mode": "detect",
        "revision": None,
        "outcome": "succeeded",
        "counts": {},
    }
    run = SyncRun.from_dict(record)
    assert run.ignore == ()
    assert SyncRun.from_dict({**run.to_dict(), "ignore": ["manager=x"]}).ignore == ("manager=x",)


def test_additions_equal_to_the_server_default_are_not_drift() -> None:
    from gitops_nb.engine.foreign import not_defaults

    obj = live(LABEL, SIDECAR)
    adds = additions(REF, MANIFEST, obj, field_manager="gitops-nb", rules=DEFAULT)
    defaults = {"metadata": {"labels": {"team": "ops"}}}  # as if the server set it anyway
    assert [a.change.path for a in not_defaults(REF, adds, defaults)] == [
        "spec.template.spec.containers[name=proxy]"
    ]
    other = {"metadata": {"labels": {"team": "dev"}}}
    kept = not_defaults(REF, adds, other)
    assert kept[0].change.desired == "dev"  # the default is shown as what Git means
    assert not_defaults(REF, adds, None) == tuple(adds)
