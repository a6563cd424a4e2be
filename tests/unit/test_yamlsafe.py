from __future__ import annotations

import time

import pytest

from gitops_nb.errors import RenderError
from gitops_nb.source.yamlsafe import load_all


def test_documents_with_start_lines_and_empty_docs_skipped() -> None:
    text = "---\n# comment\n\na: 1\n---\n---\nnull\n---\n- x\n"
    docs = load_all(text, "f.yaml")
    assert [(d.data, d.line) for d in docs] == [({"a": 1}, 4), (["x"], 9)]


def test_item_lines_for_items_sequence() -> None:
    text = "kind: List\nitems:\n- a: 1\n\n- b: 2\n"
    (doc,) = load_all(text, "l.yaml")
    assert doc.item_lines == (3, 5)


def test_dates_and_equals_stay_strings() -> None:
    (doc,) = load_all("d: 2026-01-02\ne: =\nn: 0x10\n", "f.yaml")
    assert doc.data == {"d": "2026-01-02", "e": "=", "n": 16}


def test_integer_keys_become_strings_other_keys_rejected() -> None:
    (doc,) = load_all("data:\n  80: http\n", "f.yaml")
    assert doc.data == {"data": {"80": "http"}}
    with pytest.raises(RenderError) as e:
        load_all("a:\n  true: x\n", "f.yaml")
    assert e.value.location == "f.yaml:2"


def test_duplicate_key_names_line() -> None:
    with pytest.raises(RenderError) as e:
        load_all("a: 1\nb: 2\na: 3\n", "f.yaml")
    assert e.value.location == "f.yaml:3"
    assert "duplicate key 'a'" in str(e.value)


def test_merge_keys_allowed() -> None:
    (doc,) = load_all("base: &b {x: 1, y: 2}\nc:\n  <<: *b\n  y: 3\n", "f.yaml")
    assert doc.data["c"] == {"x": 1, "y": 3}


@pytest.mark.parametrize(
    "text",
    [
        "a: !!python/object/apply:os.system ['true']\n",
        "a: !!python/name:os.system\n",
        "a: !custom x\n",
        "a: !!binary aGk=\n",
    ],
)
def test_unsafe_or_unsupported_tags_rejected(text: str) -> None:
    with pytest.raises(RenderError) as e:
        load_all("ok: 1\n" + text, "t.yaml")
    assert e.value.location == "t.yaml:2"


def test_syntax_error_names_line_without_quoting_content() -> None:
    with pytest.raises(RenderError) as e:
        load_all("a: 1\nb: c\n password: hunter2\n", "s.yaml")
    assert e.value.location == "s.yaml:3"
    assert "hunter2" not in str(e.value)


def test_billion_laughs_rejected_quickly() -> None:
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        refs = ",".join([f"*l{i - 1}"] * 9)
        lines.append(f"l{i}: &l{i} [{refs}]")
    started = time.monotonic()
    with pytest.raises(RenderError) as e:
        load_all("\n".join(lines) + "\n", "bomb.yaml")
    assert time.monotonic() - started < 1.0
    assert e.value.location == "bomb.yaml:1"
    assert "aliases expand" in str(e.value)


def test_budget_is_per_file_across_documents() -> None:
    doc = 'a: &a ["x","x","x","x","x","x","x","x","x","x"]\nb: [' + ",".join(["*a"] * 60) + "]\n"
    load_all(doc, "f.yaml", max_alias_expansion=1000)  # 60*11 = 660 extra nodes
    with pytest.raises(RenderError) as e:
        load_all(doc + "---\n" + doc, "f.yaml", max_alias_expansion=1000)
    assert e.value.location == "f.yaml:4"


def test_recursive_alias_rejected() -> None:
    with pytest.raises(RenderError, match="recursive"):
        load_all("a: &a [1, *a]\n", "r.yaml")


def test_small_aliases_allowed() -> None:
    (doc,) = load_all("x: &x {k: v}\ny: *x\n", "f.yaml")
    assert doc.data == {"x": {"k": "v"}, "y": {"k": "v"}}


def _big_anchor_file(anchor_kb: int, aliases: int) -> str:
    big = "A" * (anchor_kb * 1024)
    refs = "\n".join(f"  k{i}: *big" for i in range(aliases))
    return (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\n"
        f"anchor: &big {big}\ndata:\n{refs}\n"
    )


@pytest.mark.parametrize(("anchor_kb", "aliases"), [(100, 3000), (100, 10_000)])
def test_alias_bound_counts_bytes_not_nodes(anchor_kb: int, aliases: int) -> None:
    import tracemalloc

    text = _big_anchor_file(anchor_kb, aliases)
    assert len(text) < 250_000  # a tiny commit (135 KB and 219 KB in the issue)
    with pytest.raises(RenderError) as e:  # bounded by the memory check below, not a timer
        load_all(text, "bomb.yaml")
    assert e.value.location == "bomb.yaml:5"  # the anchor's line
    assert "KiB of extra data" in str(e.value)
    tracemalloc.start()  # measured apart: tracing slows the parse down severalfold
    try:
        with pytest.raises(RenderError):
            load_all(text, "bomb.yaml")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024


def test_byte_budget_allows_ordinary_reuse() -> None:
    (doc,) = load_all(_big_anchor_file(1, 100), "ok.yaml")  # ~100 KB expanded
    assert len(doc.data["data"]) == 100
    with pytest.raises(RenderError):
        load_all(_big_anchor_file(1, 100), "f.yaml", max_alias_bytes=50_000)
