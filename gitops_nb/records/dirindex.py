"""What a record directory holds and whose each file is, kept per process.

A fleet of N apps sharing one ``historyDir`` reads each app's records several times per run
(fold, trim, prior health). Listing the directory each time costs O(N) per read, O(N²) per
fleet run: at 1,000 apps it was the largest share of a no-op run's CPU. The index keeps:

- which app each file belongs to (a file's name is its first run's start and id, and folding
  rewrites it with the same app, so a name never changes app), and each parsed record while
  its file is unchanged (same inode, size and mtime: writers replace files, never edit them);
- the directory listing, valid while the directory's mtime is the one it was listed at.
  This process's own changes (temporary file, rename, delete) are made under the index's
  lock, which notes them and the new mtime, so they never force a new listing; a change by
  another process moves the mtime and the next read lists again. A change another process
  makes within the same clock tick as one of ours can go unnoticed by this process's reads
  of *one app's* records until the next change: harmless, since one app's records have one
  writer at a time (its Lease) and a new process starts with an empty index. Reads of every
  app's records (history, notebooks) always list the directory.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gitops_nb.model import SyncRun

Stamp = tuple[int, int, int]


def stamp(st: os.stat_result) -> Stamp:
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def is_record_name(name: str) -> bool:
    """A record file (temporaries start with a dot)."""
    return name.endswith(".json") and not name.startswith(".")


class DirIndex:
    """The index of one directory; thread-safe."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.lock = threading.RLock()
        self.app_of: dict[str, str] = {}
        self.names_of: dict[str, set[str]] = {}
        self.parsed: dict[str, tuple[Stamp, SyncRun]] = {}
        self._listing: set[str] | None = None
        self._unknown: set[str] = set()
        """Listed files nobody has read yet: any app's, until parsed."""
        self._mtime = -1

    def _mtime_now(self) -> int:
        return os.stat(self.directory).st_mtime_ns

    def _fresh(self, force: bool = False) -> set[str]:
        mtime = self._mtime_now()
        if force or self._listing is None or mtime != self._mtime:
            names = {n for n in os.listdir(self.directory) if is_record_name(n)}
            # stamped with the mtime seen before listing: a change meanwhile lists again
            self._listing, self._mtime = names, mtime
            self._unknown = names - self.app_of.keys()
        return self._listing

    def names(self, app: str | None = None) -> list[str]:
        """Record file names, all or ``app``'s (plus files not read yet), in name order.

        Reading every app's records lists the directory each time (that read is O(N)
        anyway), so a reader such as a notebook never misses another process's record."""
        with self.lock:
            listing = self._fresh(force=app is None)
            if app is None:
                return sorted(listing)
            return sorted(self._unknown | (self.names_of.get(app, set()) & listing))

    def learn(self, name: str, run: SyncRun, st: os.stat_result | None = None) -> None:
        with self.lock:
            self.app_of[name] = run.app
            self.names_of.setdefault(run.app, set()).add(name)
            self._unknown.discard(name)
            if st is not None:
                self.parsed[name] = (stamp(st), run)

    def cached(self, name: str, st: os.stat_result) -> SyncRun | None:
        with self.lock:
            hit = self.parsed.get(name)
        return hit[1] if hit is not None and hit[0] == stamp(st) else None

    @contextmanager
    def mutating(self) -> Iterator[None]:
        """Hold while this process changes the directory: a listing valid before stays
        valid after (the change is known to the index)."""
        with self.lock:
            valid = self._listing is not None and self._mtime_now() == self._mtime
            try:
                yield
            finally:
                if valid:
                    self._mtime = self._mtime_now()
                else:
                    self._listing = None

    def added(self, name: str) -> None:
        with self.lock:
            if self._listing is not None:
                self._listing.add(name)

    def removed(self, name: str) -> None:
        with self.lock:
            if self._listing is not None:
                self._listing.discard(name)
            self._unknown.discard(name)
            self.parsed.pop(name, None)
            app = self.app_of.pop(name, None)
            if app is not None:
                self.names_of.get(app, set()).discard(name)


_INDEXES: dict[str, DirIndex] = {}
_INDEXES_LOCK = threading.Lock()


def index(directory: Path) -> DirIndex:
    with _INDEXES_LOCK:
        found = _INDEXES.get(str(directory))
        if found is None:
            found = _INDEXES[str(directory)] = DirIndex(directory)
        return found


__all__ = ["DirIndex", "index", "is_record_name", "stamp"]
