"""LISTs shared by the apps of one fleet run: one request per collection, not one per app.

A fleet's apps often live in one namespace and hold the same kinds. Each app's no-op check
reads its ApplySet members with a metadata-only LIST per kind and namespace; with N apps
that is N identical LISTs differing only in the label value. :class:`SharedLists` sends the
first caller's LIST (with a broader selector, e.g. the label's existence) and hands every
later caller of the same collection, selector and identity the same answer, or the same
error. Callers filter the items to their own. The answers are a snapshot of the moment of
the first request: a change made after it is seen by the next run, not this one.
"""

from __future__ import annotations

import threading
from typing import Any

from gitops_nb.errors import GitOpsError
from gitops_nb.kube.client import Kube

_Key = tuple[str, str, str, str, str]


class _Entry:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.done = False
        self.items: list[dict[str, Any]] = []
        self.error: GitOpsError | None = None
        self.names: dict[str, dict[str, Any]] | None = None
        self.labels: dict[str, dict[str, list[dict[str, Any]]]] = {}


class SharedLists:
    """Memoised ``Kube.list`` per (server, identity, path, selector, accept); thread-safe.

    The identity is the user a client impersonates, so an app acting as its own
    ServiceAccount never sees what only another identity may list.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[_Key, _Entry] = {}
        self.requests = 0
        """LISTs actually sent (the rest were answered from memory)."""

    def items(
        self,
        kube: Kube,
        path: str,
        *,
        label_selector: str = "",
        accept: str = "application/json",
        what: str = "",
    ) -> list[dict[str, Any]]:
        """The collection's items (the list is shared: copy an item before changing it)."""
        return self._fetched(kube, path, label_selector, accept, what).items

    def by_name(
        self,
        kube: Kube,
        path: str,
        *,
        label_selector: str = "",
        accept: str = "application/json",
        what: str = "",
    ) -> dict[str, dict[str, Any]]:
        """The collection's items by ``metadata.name`` (one namespace's collection)."""
        entry = self._fetched(kube, path, label_selector, accept, what)
        with entry.lock:
            if entry.names is None:
                entry.names = {(i.get("metadata") or {}).get("name", ""): i for i in entry.items}
            return entry.names

    def by_label(
        self,
        kube: Kube,
        path: str,
        label: str,
        *,
        label_selector: str = "",
        accept: str = "application/json",
        what: str = "",
    ) -> dict[str, list[dict[str, Any]]]:
        """The collection's items grouped by the value of ``label`` (items without it left
        out): each app finds its own without a pass over everyone's."""
        entry = self._fetched(kube, path, label_selector, accept, what)
        with entry.lock:
            if label not in entry.labels:
                groups: dict[str, list[dict[str, Any]]] = {}
                for i in entry.items:
                    value = ((i.get("metadata") or {}).get("labels") or {}).get(label)
                    if value is not None:
                        groups.setdefault(value, []).append(i)
                entry.labels[label] = groups
            return entry.labels[label]

    def _fetched(
        self, kube: Kube, path: str, label_selector: str, accept: str, what: str
    ) -> _Entry:
        key = (kube.configuration.host, kube.impersonate, path, label_selector, accept)
        with self._lock:
            entry = self._entries.setdefault(key, _Entry())
        with entry.lock:  # concurrent callers of one collection wait for one request
            if not entry.done:
                self.requests += 1
                try:
                    entry.items = kube.list(
                        path, label_selector=label_selector, accept=accept, what=what
                    )
                except GitOpsError as e:
                    if e.transient:
                        raise  # the next caller tries again
                    entry.error = e
                entry.done = True
        if entry.error is not None:
            raise entry.error
        return entry
