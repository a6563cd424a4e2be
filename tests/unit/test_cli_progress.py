"""Progress on stderr: drawn on a terminal, nothing at all otherwise."""

from __future__ import annotations

import io

from rich.console import Console

from gitops_nb.cli.progress import MIN_OBJECTS, Progress
from gitops_nb.model import Action, ObjectRef

REF = ObjectRef("v1", "ConfigMap", "prod", "cm")


def console(terminal: bool) -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, force_terminal=terminal, width=100), buf


def test_a_terminal_sees_the_phase_and_the_count() -> None:
    con, buf = console(True)
    with Progress(con, "applying") as p:
        assert p.enabled
        p.rendered(100)
        for _ in range(40):
            p.advance(REF, Action.UNCHANGED, None)
        con.file.flush()
        p._bar.refresh()
    text = buf.getvalue()
    assert "applying" in text and "40/100" in text


def test_few_objects_get_no_bar_only_the_phase() -> None:
    con, buf = console(True)
    with Progress(con, "diffing") as p:
        p.rendered(MIN_OBJECTS - 1)
        p._bar.refresh()
    assert f"diffing {MIN_OBJECTS - 1} objects" in buf.getvalue()


def test_off_a_terminal_nothing_is_written() -> None:
    con, buf = console(False)
    with Progress(con, "applying") as p:
        assert not p.enabled
        p.rendered(1000)
        p.advance(REF, Action.CREATED, None)
    assert buf.getvalue() == ""
