"""The public API is what the README shows, and importing the core stays cheap."""

from __future__ import annotations

import subprocess
import sys

import gitops_nb


def test_every_public_name_resolves() -> None:
    for name in gitops_nb.__all__:
        assert getattr(gitops_nb, name) is not None, name
    assert gitops_nb.diff_app.__module__ == "gitops_nb.usecases.sync"
    assert gitops_nb.SyncOptions.__module__ == "gitops_nb.engine.options"


def test_unknown_name_is_an_attribute_error() -> None:
    try:
        gitops_nb.no_such_name  # noqa: B018
    except AttributeError as e:
        assert "no_such_name" in str(e)
    else:
        raise AssertionError("expected AttributeError")


def test_core_records_do_not_load_the_engine_or_pandas() -> None:
    code = (
        "import sys, gitops_nb.model, gitops_nb.errors;"
        "print(sorted(m for m in ('kubernetes', 'pandas', 'git', 'gitops_nb.engine')"
        " if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
