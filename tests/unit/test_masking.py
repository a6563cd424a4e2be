"""Secret masking: objects, pairs, field changes and free text."""

from __future__ import annotations

import base64
import json
from typing import Any

from gitops_nb.masking import (
    LAST_APPLIED,
    MASK,
    MASK_DESIRED,
    MASK_LIVE,
    is_secret,
    mask_change,
    mask_object,
    mask_pair,
    scrub_text,
    secret_values,
)
from gitops_nb.model import FieldChange, ObjectRef


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


SECRET_REF = ObjectRef("v1", "Secret", "shop", "db")


def secret(data: dict[str, str], string_data: dict[str, str] | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "db",
            "namespace": "shop",
            "annotations": {
                LAST_APPLIED: json.dumps({"kind": "Secret", "stringData": {"password": "pw-1"}}),
                "team": "payments",
            },
        },
        "type": "Opaque",
        "data": {k: b64(v) for k, v in data.items()},
    }
    if string_data is not None:
        obj["stringData"] = string_data
    return obj


def test_is_secret() -> None:
    assert is_secret(SECRET_REF)
    assert is_secret(secret({}))
    assert not is_secret(ObjectRef("v1", "ConfigMap", "shop", "db"))
    assert not is_secret(ObjectRef("example.com/v1", "Secret", "shop", "db"))
    assert not is_secret({"apiVersion": "v1", "kind": "ConfigMap"})
    assert not is_secret(None)


def test_mask_object_hides_values_keeps_keys() -> None:
    obj = secret({"password": "pw-1", "user": "dbuser7"}, {"token": "tok-9"})
    masked = mask_object(obj)
    assert masked["data"] == {"password": MASK, "user": MASK}
    assert masked["stringData"] == {"token": MASK}
    assert masked["metadata"]["annotations"] == {LAST_APPLIED: MASK, "team": "payments"}
    text = json.dumps(masked)
    for value in ("pw-1", b64("pw-1"), "dbuser7", b64("dbuser7"), "tok-9"):
        assert value not in text
    assert obj["data"]["password"] == b64("pw-1")  # input untouched


def test_mask_object_leaves_other_kinds_alone() -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "data": {"password": "visible"}}
    masked = mask_object(cm)
    assert masked == cm
    assert masked is not cm


def test_mask_pair_shows_which_keys_changed() -> None:
    live = secret({"password": "pw-1", "user": "app", "old": "gone"})
    desired = secret({"password": "pw-2", "user": "app", "new": "added"})
    masked_live, masked_desired = mask_pair(live, desired)
    assert masked_live is not None and masked_desired is not None
    assert masked_live["data"] == {"password": MASK_LIVE, "user": MASK, "old": MASK}
    assert masked_desired["data"] == {"password": MASK_DESIRED, "user": MASK, "new": MASK}
    assert masked_live["data"]["password"] != masked_desired["data"]["password"]
    text = json.dumps([masked_live, masked_desired])
    for value in ("pw-1", "pw-2", "gone", "added"):
        assert value not in text and b64(value) not in text
    assert "payments" in text  # non-secret fields stay visible


def test_mask_pair_one_side_absent_and_non_secret() -> None:
    masked_live, masked_desired = mask_pair(None, secret({"password": "pw-1"}))
    assert masked_live is None
    assert masked_desired is not None and masked_desired["data"] == {"password": MASK}
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "1"}}
    assert mask_pair(cm, cm) == (cm, cm)


def test_mask_change_only_for_secret_data_paths() -> None:
    change = FieldChange('data["tls.key"]', b64("k1"), b64("k2"), "kubectl-edit", "Update")
    masked = mask_change(SECRET_REF, change)
    assert (masked.live, masked.desired) == (MASK_LIVE, MASK_DESIRED)
    assert masked.manager == "kubectl-edit"
    whole = mask_change(SECRET_REF, FieldChange("stringData", None, {"a": "x", "b": "y"}))
    assert whole.desired == {"a": MASK, "b": MASK}
    label = FieldChange("metadata.labels.app", "a", "b")
    assert mask_change(SECRET_REF, label) == label
    cm_change = FieldChange("data.password", "a", "b")
    assert mask_change(ObjectRef("v1", "ConfigMap", "shop", "db"), cm_change) == cm_change


def test_mask_change_keeps_existing_masks() -> None:
    change = FieldChange("data.password", MASK_LIVE, MASK_DESIRED)
    assert mask_change(SECRET_REF, change) == change
    # A real value that merely starts like a mask is still masked.
    sneaky = mask_change(SECRET_REF, FieldChange("data.password", "***hunter2", None))
    assert sneaky.live == MASK


def test_scrub_text_plain_base64_and_decoded() -> None:
    text = (
        f"error applying: password=hunter2 encoded={b64('hunter2')} "
        f"url={base64.urlsafe_b64encode(b'hunter2').decode().rstrip('=')}"
    )
    scrubbed = scrub_text(text, ["hunter2"])
    assert "hunter2" not in scrubbed and b64("hunter2") not in scrubbed
    assert scrubbed.startswith("error applying: password=***")
    # Given the base64 form (a Secret's data value), the decoded value is scrubbed too.
    assert scrub_text("login failed for s3cr3t!", [b64("s3cr3t!")]) == "login failed for ***"
    assert scrub_text("nothing here", ["", "absent"]) == "nothing here"


def test_scrub_text_longest_first() -> None:
    assert scrub_text("key=abcdef", ["abc", "abcdef"]) == "key=***"


def test_secret_values_feed_scrub_text() -> None:
    obj = secret({"password": "pw-secret-1"}, {"token": "tok-secret-9"})
    values = secret_values(obj)
    assert b64("pw-secret-1") in values and "tok-secret-9" in values
    log_line = "apply failed: pw-secret-1 / tok-secret-9 / " + b64("pw-secret-1")
    assert scrub_text(log_line, values) == "apply failed: *** / *** / ***"
    assert secret_values({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "b"}}) == []


def test_secret_values_collects_every_leaf_of_nested_values() -> None:
    obj = {
        "apiVersion": "v1",
        "kind": "Secret",
        "stringData": {"a": {"nested": "S3CR3T"}, "b": ["L1ST", {"x": 12345}], "c": True},
        "data": {"d": b64("plain")},
    }
    values = secret_values(obj)
    assert {"S3CR3T", "L1ST", "12345", "True", "true", b64("plain")} <= set(values)
    echoed = (
        'expected string, got &value.valueUnstructured{Value:map[string]interface {}{"nested":'
        f'"S3CR3T"}}; []interface {{}}{{"L1ST", 12345}} {b64("S3CR3T")} plain'
    )
    scrubbed = scrub_text(echoed, values)
    for leaked in ("S3CR3T", "L1ST", "12345", b64("S3CR3T"), "plain"):
        assert leaked not in scrubbed


def test_scrub_error_rewrites_the_message_in_place() -> None:
    from gitops_nb.errors import TransientKubeError
    from gitops_nb.masking import scrub_error

    err = TransientKubeError("echoed S3CR3T (HTTP 500)", obj="Secret/ns/s")
    assert scrub_error(err, ["S3CR3T"]) is err
    assert str(err) == f"Secret/ns/s: echoed {MASK} (HTTP 500)"
