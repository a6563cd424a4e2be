"""A hand change and a commit to one field between two runs: both (issue 12, "record both").

The engine renders the last record's commit (only when needed) and compares the field's
desired value there with now; :mod:`gitops_nb.engine.fieldpaths` does the path work.
"""

from __future__ import annotations

from typing import Any

from gitops_nb.engine.cause import Prior, classify
from gitops_nb.engine.fieldpaths import MISSING, moved_paths, touches, value_at
from gitops_nb.model import (
    Action,
    Cause,
    DiffStatus,
    FieldChange,
    Manifest,
    Mode,
    ObjectRef,
    ObjectResult,
    Outcome,
    ResourceDiff,
    Revision,
    SyncRun,
)

WEB = ObjectRef("apps/v1", "Deployment", "prod", "web")
IMAGE = "spec.template.spec.containers[name=web].image"


def _deployment(image: str, env: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "web", "image": image}
    if env is not None:
        container["env"] = env
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "prod", "labels": {"a.b/c": "x"}},
        "spec": {"replicas": 2, "template": {"spec": {"containers": [container]}}},
    }


def _last(commit: str = "a" * 40) -> SyncRun:
    seen = ObjectResult(WEB, Action.UNCHANGED, DiffStatus.IN_SYNC)
    return SyncRun(
        "r1", "shop", "2026-11-28T10:00:00Z", "2026-11-28T10:00:01Z", 1.0, "schedule",
        Mode.CORRECT, Revision(commit, "2026-11-28T09:00:00Z", "Alice", "m"),
        Outcome.SUCCEEDED, {}, (seen,),
    )  # fmt: skip


def _hotfix() -> ResourceDiff:
    return ResourceDiff(
        WEB,
        DiffStatus.DRIFTED,
        changes=(
            FieldChange(IMAGE, "nginx:1.27.3-hotfix", "nginx:1.27.4", "kubectl-set", "Update"),
            FieldChange("spec.replicas", 5, 2, "kubectl", "Update"),
        ),
    )


def test_moved_paths_are_printed_like_the_diff() -> None:
    moved = moved_paths(_deployment("nginx:1.27.3"), _deployment("nginx:1.27.4"))
    assert moved == {IMAGE}
    env = moved_paths(
        _deployment("x", [{"name": "A", "value": "1"}]),
        _deployment("x", [{"name": "A", "value": "2"}, {"name": "B", "value": "3"}]),
    )
    assert env == {
        "spec.template.spec.containers[name=web].env[name=A].value",
        "spec.template.spec.containers[name=web].env[name=B]",
    }


def test_touches_matches_the_same_field_above_or_below_it_and_partial_keys() -> None:
    assert touches(IMAGE, {IMAGE})
    assert touches(f"{IMAGE}", {"spec.template.spec.containers[name=web]"})  # below
    assert touches("spec.template.spec.containers[name=web].env", {
        "spec.template.spec.containers[name=web].env[name=A].value"
    })  # fmt: skip
    ports = "spec.template.spec.containers[name=web].ports"
    assert touches(f"{ports}[containerPort=80,protocol=TCP]", {f"{ports}[containerPort=80]"})
    assert not touches(f"{ports}[containerPort=81,protocol=TCP]", {f"{ports}[containerPort=80]"})
    assert not touches("spec.replicas", {IMAGE})
    assert not touches(IMAGE, {"spec.template.spec.containers[name=proxy].image"})
    assert touches('metadata.labels["a.b/c"]', {'metadata.labels["a.b/c"]'})
    assert touches("metadata.finalizers[=example.com/x]", {"metadata.finalizers"})


def test_value_at_follows_keys_set_members_and_indexes() -> None:
    obj = _deployment("nginx", [{"name": "A", "value": "1"}])
    obj["metadata"]["finalizers"] = ["example.com/x"]
    obj["spec"]["template"]["spec"]["containers"][0]["ports"] = [
        {"containerPort": 80, "protocol": "TCP"}
    ]
    assert value_at(obj, IMAGE) == "nginx"
    assert value_at(obj, "spec.template.spec.containers[name=web].env[name=A].value") == "1"
    assert value_at(obj, "spec.template.spec.containers[0].name") == "web"
    assert value_at(obj, 'metadata.labels["a.b/c"]') == "x"
    assert value_at(obj, "metadata.finalizers[=example.com/x]") == "example.com/x"
    port = "spec.template.spec.containers[name=web].ports[containerPort=80,protocol=TCP]"
    assert value_at(obj, port) == {"containerPort": 80, "protocol": "TCP"}
    assert value_at(obj, "spec.template.spec.containers[name=web].ports[containerPort=80]")
    assert value_at(obj, "spec.template.spec.containers[name=proxy].image") is MISSING
    assert value_at(obj, "spec.replicas.x") is MISSING


def _prior(moved: dict[tuple[str, str, str, str], frozenset[str]] | None, **kw: Any) -> Prior:
    def git_moved(key: tuple[str, str, str, str]) -> frozenset[str] | None:
        return None if moved is None else moved.get(key)

    return Prior(git_moved=git_moved, **kw)


def test_a_hand_change_to_a_field_git_also_moved_is_both_the_others_stay_cluster() -> None:
    prior = _prior({WEB.key: frozenset({IMAGE})})
    d = classify(_hotfix(), "gitops-nb", prior)
    assert [c.cause for c in d.changes] == [Cause.BOTH, Cause.CLUSTER]
    assert d.cause is Cause.BOTH


def test_no_earlier_render_or_an_unmoved_object_keeps_the_cluster_cause() -> None:
    assert classify(_hotfix(), "gitops-nb", _prior(None)).cause is Cause.CLUSTER
    unmoved = _prior({WEB.key: frozenset({IMAGE})}, unmoved=frozenset({WEB.key}))
    assert classify(_hotfix(), "gitops-nb", unmoved).cause is Cause.CLUSTER


def test_git_moved_is_not_asked_without_a_hand_owned_field() -> None:
    calls: list[object] = []

    def git_moved(key: tuple[str, str, str, str]) -> frozenset[str]:
        calls.append(key)
        return frozenset({IMAGE})

    ours = ResourceDiff(
        WEB,
        DiffStatus.DRIFTED,
        changes=(FieldChange(IMAGE, "nginx:1.27.3", "nginx:1.27.4", "gitops-nb", "Apply"),),
    )
    assert classify(ours, "gitops-nb", Prior(git_moved=git_moved)).cause is Cause.GIT
    assert calls == []


def test_the_earlier_commit_is_rendered_only_when_the_last_record_is_at_another() -> None:
    asked: list[str] = []

    def render(commit: str) -> list[Manifest]:
        asked.append(commit)
        return []

    same = Prior.of(_last("a" * 40), commit="a" * 40, earlier=render)
    assert same.earlier is None
    other = Prior.of(_last("a" * 40), commit="b" * 40, earlier=render)
    assert other.earlier is not None and asked == []
    assert other.earlier() == [] and asked == ["a" * 40]
    assert Prior.of(None, commit="b" * 40, earlier=render).earlier is None


def _scaled_before() -> ObjectResult:
    hand = FieldChange("spec.replicas", 5, 2, "kubectl", "Update", cause=Cause.CLUSTER)
    ours = FieldChange(IMAGE, "a", "b", "gitops-nb", "Apply", cause=Cause.GIT)
    return ObjectResult(WEB, Action.SKIPPED, DiffStatus.DRIFTED, (hand, ours), cause=Cause.BOTH)


def test_settled_says_whether_git_now_holds_the_hand_value() -> None:
    from gitops_nb.engine.cause import settled

    now = ResourceDiff(WEB, DiffStatus.IN_SYNC)
    adopted = _deployment("b")
    adopted["spec"]["replicas"] = 5
    assert settled(_scaled_before(), now, adopted) == (("spec.replicas", True),)
    reverted = _deployment("b")  # replicas 2 again: the hand put it back
    assert settled(_scaled_before(), now, reverted) == (("spec.replicas", False),)
    still = ResourceDiff(WEB, DiffStatus.DRIFTED, (FieldChange("spec.replicas", 5, 2, "kubectl"),))
    assert settled(_scaled_before(), still, adopted) == ()  # not settled: still differs
    assert settled(_scaled_before(), now, None) == ()
    secret = ObjectRef("v1", "Secret", "prod", "web")
    assert settled(_scaled_before(), ResourceDiff(secret, DiffStatus.IN_SYNC), adopted) == ()
