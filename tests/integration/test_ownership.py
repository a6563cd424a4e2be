"""One app never takes over another's object, and prunes only what it applied (real API server)."""

from __future__ import annotations

from dataclasses import replace

from gitops_nb.engine import Engine, SyncOptions
from gitops_nb.engine.applyset import PART_OF, ApplySet
from gitops_nb.kube.client import Kube
from gitops_nb.model import Action, DiffStatus, Manifest


def cm(name: str, ns: str, value: str) -> Manifest:
    obj = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns},
        "data": {"k": value},
    }
    return Manifest(obj, f"{name}.yaml", 1)


def live(kube: Kube, ns: str, name: str) -> dict[str, object] | None:
    return kube.get_or_none(f"/api/v1/namespaces/{ns}/configmaps/{name}")  # type: ignore[no-any-return]


def label_of(kube: Kube, ns: str, name: str) -> str:
    obj = live(kube, ns, name)
    assert obj is not None
    return str(obj["metadata"]["labels"][PART_OF])  # type: ignore[index]


def test_app_b_cannot_take_app_as_configmap_without_adopt(kube: Kube, namespace: str) -> None:
    a = SyncOptions(app="alpha", namespace=namespace, prune=True)
    b = SyncOptions(app="beta", namespace=namespace, prune=True)
    a_set = [
        cm("shared", namespace, "from-a"),
        cm("a-1", namespace, "1"),
        cm("a-2", namespace, "2"),
    ]
    assert not Engine(kube).apply(a_set, a).failed
    b_set = [cm("shared", namespace, "from-b"), cm("b-1", namespace, "1")]

    # diff names the owner, and apply writes nothing to the object (force or not).
    report = Engine(kube).diff(b_set, b)
    [err] = [e for e in report.items if e.status is DiffStatus.ERROR]
    assert str(err.ref) == f"ConfigMap/{namespace}/shared"
    assert "belongs to app alpha" in (err.diff.error or "")
    before = live(kube, namespace, "shared")
    changes = Engine(kube).apply(b_set, replace(b, force_conflicts=True))
    [failed] = changes.failed
    assert str(failed.ref) == f"ConfigMap/{namespace}/shared"
    assert "conflict" in (failed.error or "") and "app alpha" in (failed.error or "")
    assert "--adopt" in (failed.error or "")
    after = live(kube, namespace, "shared")
    assert after == before  # not even relabelled
    assert label_of(kube, namespace, "shared") == a.applyset.id
    assert live(kube, namespace, "b-1") is not None  # B's own objects are applied

    # With --adopt the object moves to B.
    changes = Engine(kube).apply(b_set, replace(b, adopt=True))
    assert not changes.failed, changes.failed
    assert label_of(kube, namespace, "shared") == b.applyset.id
    assert live(kube, namespace, "shared")["data"] == {"k": "from-b"}  # type: ignore[index]

    # A drops it from Git and prunes: B's object stays.
    changes = Engine(kube).apply(a_set[1:], a)
    assert not changes.failed, changes.failed
    assert live(kube, namespace, "shared") is not None
    assert f"ConfigMap/{namespace}/shared" not in {str(e.ref) for e in changes.entries}
    # ... and A, still holding it in Git, is refused in turn, naming B.
    changes = Engine(kube).apply(a_set, a)
    assert [str(e.ref) for e in changes.failed] == [f"ConfigMap/{namespace}/shared"]
    assert "app beta" in (changes.failed[0].error or "")
    assert label_of(kube, namespace, "shared") == b.applyset.id


def test_a_labelled_object_we_never_applied_is_not_pruned(kube: Kube, namespace: str) -> None:
    a = SyncOptions(app="alpha", namespace=namespace, prune=True)
    objs = [cm(f"a-{i}", namespace, str(i)) for i in range(4)]
    assert not Engine(kube).apply(objs, a).failed
    # Someone labels an object of their own as a member of our ApplySet.
    stranger = ApplySet("alpha", namespace).label(cm("stranger", namespace, "mine").obj)
    kube.create(f"/api/v1/namespaces/{namespace}/configmaps", stranger)

    report = Engine(kube).diff(objs, a)
    [extra] = [e for e in report.items if e.status is DiffStatus.EXTRANEOUS]
    assert str(extra.ref) == f"ConfigMap/{namespace}/stranger"
    assert "not pruned" in (extra.diff.error or "")

    # Git drops a-3: it is pruned; the stranger is reported and left alone.
    changes = Engine(kube).apply(objs[:3], a)
    assert not changes.failed, changes.failed
    by_name = {e.ref.name: e for e in changes.entries}
    assert by_name["a-3"].action is Action.PRUNED
    assert by_name["stranger"].action is Action.SKIPPED
    assert "not pruned" in (by_name["stranger"].error or "")
    assert live(kube, namespace, "a-3") is None
    assert live(kube, namespace, "stranger") is not None
