"""Progress on stderr: drawn on a terminal, nothing at all otherwise."""

from __future__ import annotations

import io

from rich.console import Console

from gitops_nb.cli.progress import MIN_OBJECTS, Progress


def console(terminal: bool) -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, force_terminal=terminal, width=100), buf


def test_a_terminal_sees_the_phase_and_the_count() -> None:
    con, buf = console(True)
    with Progress(con, "applying") as p:
        assert p.enabled
        p.rendered(100)
        for _ in range(40):
            p.step()
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
        p.step()
    assert buf.getvalue() == ""


def test_each_phase_starts_at_zero_and_the_count_never_passes_its_total() -> None:
    con, _ = console(True)
    with Progress(con, "applying") as p:
        p.rendered(50)
        p.phase("dry-running", 50)
        p.step(50)
        assert (p._bar.tasks[0].completed, p._bar.tasks[0].total) == (50, 50)
        p.phase("applying", 55)  # 50 applied and 5 pruned
        assert p._bar.tasks[0].completed == 0
        p.step(60)
        assert (p._bar.tasks[0].completed, p._bar.tasks[0].total) == (55, 55)
