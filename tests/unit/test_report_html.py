"""HTML export: escaping, no scripts, no external resources, embedded timeline PNG."""

from __future__ import annotations

import base64
import html
import re
from html.parser import HTMLParser

from gitops_nb.report import to_html
from tests.factories import XSS, history_report, live_report


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.urls: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.urls.extend(v or "" for k, v in attrs if k in ("src", "href", "action", "srcset"))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(text: str) -> _Collector:
    c = _Collector()
    c.feed(text)
    c.close()
    return c


def test_values_are_escaped_and_no_script_tags() -> None:
    text = to_html(live_report())
    assert "<script" not in text.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    parsed = parse(text)
    assert "script" not in parsed.tags
    assert any(XSS in t for t in parsed.text)  # shown as text


def test_no_external_resources() -> None:
    for report in (live_report(), history_report()):
        text = to_html(report)
        parsed = parse(text)
        assert all(u.startswith("data:image/png;base64,") for u in parsed.urls), parsed.urls
        assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", text, re.I)
        assert "@import" not in text and "url(" not in text
        assert "default-src 'none'" in html.unescape(text)  # CSP: a second line of defence


def test_history_report_embeds_timeline_png() -> None:
    text = to_html(history_report())
    (url,) = parse(text).urls
    png = base64.b64decode(url.removeprefix("data:image/png;base64,"), validate=True)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000


def test_live_report_has_no_image_but_field_table_and_diff() -> None:
    text = to_html(live_report())
    parsed = parse(text)
    assert "img" not in parsed.tags
    assert parsed.tags.count("section") == 6
    assert "<th>Manager</th>" in text and "kubectl-edit" in text
    assert '<span class="del">-  replicas: 5</span>' in text
    assert '<span class="add">+  replicas: 3</span>' in text


def test_open_episodes_first_in_html() -> None:
    text = to_html(history_report())
    objects = re.findall(r'<section class="object (\w+)"><h3>([^<]+)<', text.replace("\n", ""))
    assert objects == [
        ("open", "ConfigMap/web/settings"),
        ("open", "Secret/web/db"),
        ("resolved", "Deployment/web/api"),
    ]


def test_history_html_shows_drift_before_deployments() -> None:
    from gitops_nb.report import to_html
    from tests.factories import history_report

    html = to_html(history_report())
    assert html.index("<h2>Drift timeline</h2>") < html.index("<h2>Drifted objects</h2>")
    assert html.index("<h2>Drifted objects</h2>") < html.index("<h2>Deployments (Git changes)</h2>")
