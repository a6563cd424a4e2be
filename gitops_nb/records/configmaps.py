"""Sync-run records stored in the cluster as labelled ConfigMaps in the app's namespace.

One ConfigMap per run. Small records are plain JSON (``data["record.json"]``); larger ones
are gzip-compressed (``binaryData["record.json.gz"]``). A record that would still exceed the
ConfigMap budget keeps every non-in-sync object and drops in-sync ones (counts stay exact,
``truncated`` says how many were dropped).

Records are coalesced (:mod:`gitops_nb.records.coalesce`): the app's newest record stays
mutable and is replaced (with its ``resourceVersion``, so a concurrent writer cannot be
overwritten) while runs see the same state; once a run brings news it gets a new record and
the previous one is sealed ``immutable``. Schema 2 records were immutable from the start.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import gzip
import json
from collections.abc import Sequence
from typing import Any

from gitops_nb.errors import ConflictError, GitOpsError
from gitops_nb.kube.client import Kube
from gitops_nb.kube.resources import CONFIGMAPS
from gitops_nb.model import APP_LABEL, RUN_RECORD_PREFIX, DiffStatus, SyncRun, parse_time
from gitops_nb.records.coalesce import already_stored, can_fold, fold
from gitops_nb.records.selection import select_runs

KIND_LABEL = "gitops-nb.io/record"
KIND_VALUE = "sync-run"
STARTED_ANNOTATION = "gitops-nb.io/started"
COMPRESS_ABOVE = 64 * 1024
MAX_BYTES = 900 * 1024  # ConfigMaps are capped at 1 MiB in etcd; leave room for metadata


def _name(run: SyncRun) -> str:
    stamp = run.started.replace("-", "").replace(":", "").replace("T", "-").rstrip("Z").lower()
    stamp = stamp.split(".")[0]
    return f"{RUN_RECORD_PREFIX}{run.app}-{stamp}-{run.run_id[:8]}"[:253]


def encode(run: SyncRun) -> tuple[dict[str, str], dict[str, str]]:
    """(data, binaryData) for the record, compressed and bounded as needed."""
    doc = run.to_dict()
    raw = json.dumps(doc, separators=(",", ":"), default=str).encode()
    if len(raw) <= COMPRESS_ABOVE:
        return {"record.json": raw.decode()}, {}
    packed = gzip.compress(raw, compresslevel=6)
    if len(packed) * 4 / 3 > MAX_BYTES:
        kept = [o for o in doc["objects"] if o["status"] != str(DiffStatus.IN_SYNC)]
        doc = {**doc, "objects": kept, "truncated": len(doc["objects"]) - len(kept)}
        packed = gzip.compress(json.dumps(doc, separators=(",", ":"), default=str).encode())
    return {}, {"record.json.gz": base64.b64encode(packed).decode()}


def decode(cm: dict[str, Any]) -> SyncRun:
    name = (cm.get("metadata") or {}).get("name", "?")
    try:
        if "record.json" in (cm.get("data") or {}):
            doc = json.loads(cm["data"]["record.json"])
        else:
            doc = json.loads(gzip.decompress(base64.b64decode(cm["binaryData"]["record.json.gz"])))
        doc.pop("truncated", None)
        return SyncRun.from_dict(doc)
    except (KeyError, ValueError, OSError) as e:
        raise GitOpsError(f"ConfigMap/{name}: not a readable sync-run record: {e}") from e


class ConfigMapStore:
    """Write, list and trim one namespace's sync-run records. With ``owns_client`` the
    store closes ``kube`` when it is closed."""

    def __init__(self, kube: Kube, namespace: str, *, owns_client: bool = False) -> None:
        self.kube = kube
        self.namespace = namespace
        self._owns_client = owns_client

    @property
    def _collection(self) -> str:
        return CONFIGMAPS.collection_path(self.namespace)

    def write(self, run: SyncRun) -> str:
        items = self._list(run.app)
        head_cm = items[-1] if items else None
        head = decode(head_cm) if head_cm is not None else None
        if head_cm is not None and head is not None:
            if already_stored(head, run):
                return str(head_cm["metadata"]["name"])
            if can_fold(head, run) and not head_cm.get("immutable"):
                try:
                    return self._replace(head_cm, fold(head, run))
                except ConflictError:
                    pass  # changed under us: never lose the run, give it its own record
        name = self._create(run)
        if head_cm is not None and not head_cm.get("immutable"):
            self._seal(head_cm)
        return name

    def _replace(self, cm: dict[str, Any], run: SyncRun) -> str:
        name = str(cm["metadata"]["name"])
        new = self._manifest(name, run)
        new["metadata"]["resourceVersion"] = cm["metadata"]["resourceVersion"]
        new["immutable"] = False
        self.kube.replace(
            f"{self._collection}/{name}", new, what=f"ConfigMap/{self.namespace}/{name}"
        )
        return name

    def _seal(self, cm: dict[str, Any]) -> None:
        """Make a finished record immutable; best effort (it is complete either way)."""
        name = str(cm["metadata"]["name"])
        with contextlib.suppress(GitOpsError):
            self.kube.merge_patch(
                f"{self._collection}/{name}",
                {"immutable": True},
                what=f"ConfigMap/{self.namespace}/{name}",
            )

    def _manifest(self, name: str, run: SyncRun) -> dict[str, Any]:
        data, binary = encode(run)
        cm: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": name,
                "namespace": self.namespace,
                "labels": {APP_LABEL: run.app, KIND_LABEL: KIND_VALUE},
                "annotations": {STARTED_ANNOTATION: run.started},
            },
        }
        if data:
            cm["data"] = data
        if binary:
            cm["binaryData"] = binary
        return cm

    def _create(self, run: SyncRun) -> str:
        name = _name(run)
        cm = self._manifest(name, run)
        try:
            self.kube.create(self._collection, cm, what=f"ConfigMap/{self.namespace}/{name}")
        except ConflictError as e:
            if e.reason != "AlreadyExists":
                raise
            # written by an earlier attempt whose reply was lost: same run, same name
        return name

    def _list(self, app: str | None) -> list[dict[str, Any]]:
        selector = f"{KIND_LABEL}={KIND_VALUE}" + (f",{APP_LABEL}={app}" if app else "")
        items = self.kube.list(self._collection, label_selector=selector, what="sync-run records")
        return sorted(
            items,
            key=lambda c: (
                (c["metadata"].get("annotations") or {}).get(STARTED_ANNOTATION, ""),
                c["metadata"]["name"],
            ),
        )

    def read(
        self,
        app: str | None = None,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        outcome: str | Sequence[str] | None = None,
    ) -> list[SyncRun]:
        """The records (of one app), oldest first, within ``since``..``until`` and of
        ``outcome`` (:func:`gitops_nb.records.selection.select_runs`)."""
        runs = [decode(c) for c in self._list(app)]
        return select_runs(runs, since=since, until=until, outcome=outcome)

    def trim(self, app: str, keep: int) -> int:
        """Delete the oldest records beyond ``keep``; return how many went."""
        items = self._list(app)
        doomed = items[: max(0, len(items) - keep)]
        for c in doomed:
            name = c["metadata"]["name"]
            self.kube.delete(
                f"{self._collection}/{name}", what=f"ConfigMap/{self.namespace}/{name}"
            )
        return len(doomed)

    def trim_before(self, app: str, before: dt.datetime) -> int:
        """Delete the records of ``app`` whose last run started before ``before``."""
        doomed = [
            c for c in self._list(app) if (parse_time(decode(c).last_started) or before) < before
        ]
        for c in doomed:
            name = c["metadata"]["name"]
            self.kube.delete(
                f"{self._collection}/{name}", what=f"ConfigMap/{self.namespace}/{name}"
            )
        return len(doomed)

    def close(self) -> None:
        if self._owns_client:
            self.kube.close()
