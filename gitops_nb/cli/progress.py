"""Progress on stderr for long work (fetch and render, dry-runs, applies, prunes).

Shown only when stderr is a terminal, so pipes, logs and CI output stay clean; the bar is
transient and leaves nothing behind. Rich draws it after a short delay, so work of well
under a second never flashes a bar.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console

from gitops_nb.model import Action, ObjectRef

MIN_OBJECTS = 20  # fewer objects finish in about a second: a bar would only flicker


class Progress:
    """A spinner while fetching and rendering, then a bar per object."""

    def __init__(self, console: Console, verb: str) -> None:
        self.console = console
        self.verb = verb
        self.enabled = console.is_terminal
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> Progress:
        if self.enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )
            from rich.progress import Progress as Bar

            self._bar = Bar(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self._task = self._bar.add_task("fetching and rendering", total=None)
            self._bar.start()
        return self

    def rendered(self, total: int) -> None:
        """The render is done: ``total`` objects go to the API server next."""
        if self._bar is not None:
            if total < MIN_OBJECTS:
                self._bar.update(self._task, description=f"{self.verb} {total} objects")
            else:
                self._bar.update(self._task, description=self.verb, total=total, completed=0)

    def advance(self, _ref: ObjectRef, _action: Action, _err: str | None) -> None:
        if self._bar is not None:
            self._bar.advance(self._task)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


__all__ = ["MIN_OBJECTS", "Progress"]
