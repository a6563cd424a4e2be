"""Defensive masking of Secret values in report changes, diff text and timelines."""

from __future__ import annotations

import base64

from gitops_nb.history.timeline import drift_intervals
from gitops_nb.masking import LAST_APPLIED, MASK, MASK_DESIRED, MASK_LIVE
from gitops_nb.model import FieldChange, ObjectRef
from gitops_nb.report.redact import (
    mask_secret_diff,
    raw_secrets,
    safe_change,
    safe_intervals,
    safe_text,
)
from tests.factories import CM, SECRET, history_runs

LAST = f'metadata.annotations["{LAST_APPLIED}"]'


def test_mask_secret_diff_masks_data_and_string_data_only() -> None:
    text = (
        "--- live/Secret/web/db\n+++ git/Secret/web/db\n@@ -1,9 +1,9 @@\n"
        " apiVersion: v1\n data:\n   same: c2FtZQ==\n-  pw: b2xk\n+  pw: bmV3\n"
        "   masked: '*** (live)'\n kind: Secret\n metadata:\n   name: db\n"
        "+stringData:\n+  cert: |\n+    -----BEGIN-----\n+    abc\n type: Opaque\n"
    )
    out = mask_secret_diff(text).splitlines()
    assert out[5:9] == [
        f"   same: {MASK}",
        f"-  pw: {MASK_LIVE}",
        f"+  pw: {MASK_DESIRED}",
        "   masked: '*** (live)'",
    ]
    assert out[9:12] == [" kind: Secret", " metadata:", "   name: db"]
    assert out[12:17] == [
        "+stringData:",
        f"+  cert: {MASK_DESIRED}",
        f"+    {MASK_DESIRED}",
        f"+    {MASK_DESIRED}",
        " type: Opaque",
    ]


def test_mask_secret_diff_masks_wrapped_last_applied_and_flow_data() -> None:
    text = (
        f' metadata:\n   annotations:\n-    {LAST_APPLIED}: \'{{"data":\n'
        '-      {"pw":"b2xk"}}\'\n'
        "   name: db\n-data: {pw: b2xk}\n"
    )
    out = mask_secret_diff(text)
    assert "b2xk" not in out
    assert f"-    {LAST_APPLIED}: {MASK}" in out and "   name: db" in out
    assert f"-data: {MASK}" in out


def test_safe_text_scrubs_known_raw_values_in_any_form() -> None:
    raw = "s3cr3t-value"
    b64 = base64.b64encode(raw.encode()).decode()
    text = f"error: value {raw} and {b64} rejected"
    out = safe_text(SECRET, text, raw_secrets(SECRET, [FieldChange("data.k", b64, None)]))
    assert raw not in out and b64 not in out
    assert safe_text(CM, "ConfigMap text stays", []) == "ConfigMap text stays"


def test_safe_change_masks_secret_paths_and_last_applied_not_other_kinds() -> None:
    c = safe_change(SECRET, FieldChange("data.pw", "b2xk", "bmV3"))
    assert (c.live, c.desired) == (MASK_LIVE, MASK_DESIRED)
    c = safe_change(SECRET, FieldChange(LAST, "{...raw...}", None))
    assert (c.live, c.desired) == (MASK, None)
    whole = {"apiVersion": "v1", "kind": "Secret", "data": {"pw": "b2xk"}}
    c = safe_change(SECRET, FieldChange("", whole, None))
    assert c.live["data"] == {"pw": MASK}
    plain = FieldChange("data.pw", "visible", "fine")
    assert safe_change(CM, plain) == plain
    other = ObjectRef("example.com/v1", "Secret", "web", "db")  # not a core Secret
    assert safe_change(other, plain) == plain


def test_safe_intervals_masks_secret_rows_only() -> None:
    df = drift_intervals(history_runs())
    out = safe_intervals(df)
    assert out is not None
    secret = out[out["kind"] == "Secret"].iloc[0]
    assert secret["desired_at_start"] == MASK and list(secret["live_values"]) == [MASK]
    cm = out[out["kind"] == "ConfigMap"].iloc[0]
    assert cm["desired_at_start"] == "blue" and list(cm["live_values"]) == ["red"]
    # the input frame is left alone
    assert df[df["kind"] == "Secret"].iloc[0]["desired_at_start"] != MASK
