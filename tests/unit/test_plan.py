"""The fast path's rule, :func:`plan.vouched`, on hand-made metadata (no server)."""

from __future__ import annotations

import copy
from typing import Any

from gitops_nb.engine import fingerprint
from gitops_nb.engine.plan import vouched

DESIRED: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "cfg", "namespace": "web"},
    "data": {"k": "v"},
}


def managed(manager: str, subresource: str = "", time: str = "2026-11-28T10:00:00Z") -> Any:
    e = {"manager": manager, "operation": "Apply", "time": time, "fieldsV1": {"f:data": {}}}
    return {**e, "subresource": subresource} if subresource else e


LIVE: dict[str, Any] = {"name": "cfg", "uid": "u-1", "managedFields": [managed("gitops-nb")]}
STORED = (fingerprint.desired_hash(DESIRED), fingerprint.ownership_hash(LIVE))


def test_untouched_object_is_vouched_with_its_fingerprint() -> None:
    assert vouched(STORED, LIVE, DESIRED) == STORED
    # a copy with the same content is the same object
    assert vouched(STORED, copy.deepcopy(LIVE), copy.deepcopy(DESIRED)) == STORED


def test_no_stored_fingerprint_means_a_dry_run() -> None:
    assert vouched(None, LIVE, DESIRED) is None
    assert vouched(None, LIVE) is None


def test_a_change_in_git_is_not_vouched() -> None:
    changed = copy.deepcopy(DESIRED)
    changed["data"]["k"] = "w"
    assert vouched(STORED, LIVE, changed) is None


def test_a_foreign_write_or_a_recreation_is_not_vouched() -> None:
    edited = {**LIVE, "managedFields": [*LIVE["managedFields"], managed("kubectl-edit")]}
    assert vouched(STORED, edited, DESIRED) is None
    assert vouched(STORED, {**LIVE, "uid": "u-2"}, DESIRED) is None
    rewritten = {**LIVE, "managedFields": [managed("gitops-nb", time="2026-11-28T11:00:00Z")]}
    assert vouched(STORED, rewritten, DESIRED) is None


def test_status_writers_do_not_break_the_fingerprint() -> None:
    status = managed("kube-controller-manager", subresource="status")
    with_status = {**LIVE, "managedFields": [*LIVE["managedFields"], status]}
    assert vouched(STORED, with_status, DESIRED) == STORED


def test_without_a_render_the_recorded_desired_hash_is_trusted() -> None:
    # quick_check: the caller has matched the source key, so only ownership is checked
    assert vouched(STORED, LIVE) == STORED
    stale = ("some-other-desired-hash", STORED[1])
    assert vouched(stale, LIVE) == stale
    assert vouched(stale, LIVE, DESIRED) is None  # with a render, the hash must match
    assert vouched(STORED, {**LIVE, "uid": "u-2"}) is None
