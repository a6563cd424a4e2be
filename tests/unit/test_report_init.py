"""write() for every format, and a Secret value that must never reach any output."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from pathlib import Path

import pytest

from gitops_nb.errors import ConfigError
from gitops_nb.model import DiffStatus, FieldChange, ObjectRef, ResourceDiff
from gitops_nb.report import (
    FORMATS,
    ReportObject,
    from_diff,
    from_history,
    to_csv,
    to_html,
    write,
)
from gitops_nb.report import to_json as report_json
from tests.factories import (
    NOW,
    RAW_B64,
    RAW_SECRET,
    REV,
    history_report,
    history_runs,
    live_report,
)


def test_secret_value_never_in_any_export() -> None:
    raw = "Tr0ub4dor&3-known-raw"
    b64 = base64.b64encode(raw.encode()).decode()
    ref = ObjectRef("v1", "Secret", "prod", "creds")
    diff = ResourceDiff(
        ref,
        DiffStatus.DRIFTED,
        (
            FieldChange("data.password", b64, "bmV3", "kubectl-edit", "Update", None),
            FieldChange("stringData.token", raw, None, "kubectl-edit", "Update", None),
        ),
        # a diff text as a buggy producer might write it: raw values inline
        f"--- live/{ref}\n+++ git/{ref}\n data:\n-  password: {b64}\n+  password: bmV3\n"
        f" stringData:\n-  token: {raw}\n",
        error=f"apply failed for value {raw}",
    )
    report = from_diff("prod", REV, [diff], now=NOW)
    for fmt, export in FORMATS.items():
        text = export(report)
        assert "creds" in text, fmt
        for form in (raw, b64, b64.rstrip("="), base64.urlsafe_b64encode(raw.encode()).decode()):
            assert form not in text, (fmt, form)
    # a report built by hand (not through from_diff) is masked by the exporters too
    unmasked = ReportObject(ref, DiffStatus.DRIFTED, True, diff.changes, diff.diff_text)
    hand = replace(report, objects=(unmasked,))
    for export in FORMATS.values():
        assert raw not in export(hand) and b64 not in export(hand)


def test_history_secret_value_never_in_any_export() -> None:
    report = history_report()
    for export in FORMATS.values():
        text = export(report)
        assert RAW_B64 not in text and RAW_SECRET not in text


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_write_each_format(tmp_path: Path, fmt: str) -> None:
    report = history_report()
    path = write(report, fmt, tmp_path / "out" / f"report.{fmt}")
    assert path.read_bytes() == FORMATS[fmt](report).encode()
    # no temporary left; a history CSV report also writes its deployments beside it
    extra = ["report-deployments.csv"] if fmt == "csv" else []
    assert sorted(p.name for p in path.parent.iterdir()) == sorted([path.name, *extra])


def test_write_rejects_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown report format 'pdf'"):
        write(live_report(), "pdf", tmp_path / "r.pdf")
    assert not (tmp_path / "r.pdf").exists()


def test_exports_agree_on_object_order() -> None:
    report = from_history(history_runs(), now=NOW)
    from_json = [o["object"] for o in json.loads(report_json(report))["objects"]]
    assert from_json == ["ConfigMap/web/settings", "Secret/web/db", "Deployment/web/api"]
    html = to_html(report)
    assert [html.index(f"<h3>{o}") for o in from_json] == sorted(
        html.index(f"<h3>{o}") for o in from_json
    )
    csv_objects = [line.split(",")[1] for line in to_csv(report).splitlines()[1:]]
    assert csv_objects == from_json
