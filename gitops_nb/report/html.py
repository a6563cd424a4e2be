"""Self-contained HTML export: one file, inline CSS, no scripts, no external resources.

Every value goes through :func:`html.escape`; a Content-Security-Policy forbids scripts and
any fetch but inline styles and ``data:`` images, as a second line of defence.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from html import escape

import pandas as pd

from gitops_nb.history.frames import to_utc
from gitops_nb.report.model import Report, ReportObject, safe_report
from gitops_nb.report.rows import (
    CHANGE_HEADER,
    DEPLOYMENT_HEADER,
    EPISODE_HEADER,
    HEALTH_HEADER,
    RESTORE_HEADER,
    change_row,
    commit_by,
    deployment_rows,
    episode_rows,
    health_rows,
    object_groups,
    object_meta,
    object_state,
    restore_rows,
    summary_rows,
)

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

STYLE = """
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: #1f2328; background: #f6f8fa; margin: 0; }
main { max-width: 1200px; margin: 0 auto; padding: 24px; }
h1 { font-size: 24px; margin: 0 0 16px; }
h2 { font-size: 18px; margin: 28px 0 12px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 0 0 8px; font-family: ui-monospace, Menlo, Consolas, monospace; }
table { border-collapse: collapse; background: #fff; margin: 8px 0; }
th, td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #eef1f4; font-weight: 600; }
td { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12.5px;
     white-space: pre-wrap; word-break: break-word; max-width: 420px; }
table.summary td:first-child { font-family: inherit; font-weight: 600; white-space: nowrap; }
.object { background: #fff; border: 1px solid #d0d7de; border-left: 6px solid #8c959f;
          border-radius: 6px; padding: 12px 16px; margin: 12px 0; }
.object.open, .object.drift { border-left-color: #cf222e; }
.object.error { border-left-color: #bf8700; }
.object.resolved { border-left-color: #1a7f37; }
.badge { display: inline-block; font: 600 11px/1.8 system-ui, sans-serif; padding: 0 8px;
         border-radius: 10px; background: #eaeef2; margin-left: 6px; vertical-align: middle; }
.badge.open { background: #ffebe9; color: #a40e26; }
.badge.resolved { background: #dafbe1; color: #116329; }
ul.meta { list-style: none; padding: 0; margin: 0 0 8px; color: #57606a; }
ul.meta li { display: inline-block; margin-right: 18px; }
pre.diff { background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 6px; padding: 8px;
           overflow-x: auto; font: 12.5px/1.4 ui-monospace, Menlo, Consolas, monospace; }
pre.diff .add { color: #116329; background: #dafbe1; display: block; }
pre.diff .del { color: #82071e; background: #ffebe9; display: block; }
pre.diff .hunk { color: #0550ae; display: block; }
pre.diff .head { color: #57606a; font-weight: 600; display: block; }
figure { margin: 8px 0; background: #fff; border: 1px solid #d0d7de; padding: 8px; }
figure img { max-width: 100%; height: auto; }
.note { color: #57606a; }
footer { color: #57606a; font-size: 12px; margin-top: 32px; }
"""


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], cls: str = "") -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    attr = f' class="{cls}"' if cls else ""
    return f"<table{attr}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def diff_line_class(line: str) -> str:
    """The kind of a unified diff line: ``head``, ``hunk``, ``add``, ``del`` or ``ctx``."""
    if line.startswith(("---", "+++")):
        return "head"
    if line.startswith("@@"):
        return "hunk"
    if line.startswith("+"):
        return "add"
    if line.startswith("-"):
        return "del"
    return "ctx"


def _diff(text: str) -> str:
    spans = []
    for line in text.rstrip("\n").split("\n"):
        cls = diff_line_class(line)
        if cls == "ctx":
            spans.append(escape(line) + "\n")
        else:
            spans.append(f'<span class="{cls}">{escape(line)}</span>')
    return '<pre class="diff">' + "".join(spans) + "</pre>"


def _object(obj: ReportObject, by: str = "") -> str:
    state = object_state(obj)
    badges = f'<span class="badge">{escape(str(obj.status))}</span>'
    if state:
        badges += f'<span class="badge {state}">{state}</span>'
    # border colour: open/resolved episodes (history), current drift or error (live diff)
    kind = state or ("drift" if obj.open else "error")
    parts = [f'<section class="object {kind}">', f"<h3>{escape(str(obj.ref))}{badges}</h3>"]
    meta = object_meta(obj)
    if meta:
        items = "".join(f"<li><b>{escape(k)}:</b> {escape(v)}</li>" for k, v in meta)
        parts.append(f'<ul class="meta">{items}</ul>')
    if obj.changes:
        parts.append(_table(CHANGE_HEADER, [change_row(c, by) for c in obj.changes], "changes"))
    if obj.diff_text:
        parts.append(f"<details open><summary>Diff</summary>{_diff(obj.diff_text)}</details>")
    parts.append("</section>")
    return "\n".join(parts)


def _timeline(report: Report) -> str:
    if report.intervals is None or report.intervals.empty:
        return ""
    try:
        from gitops_nb.report.figures import figure_png, timeline_figure
    except ImportError:  # matplotlib is the ``notebook`` extra; the report works without it
        return (
            '<p class="note">Timeline plot omitted: it needs matplotlib '
            "(pip install 'gitops-nb[notebook]').</p>"
        )
    stamp = to_utc(report.generated_at)  # open episodes run to when the report was made
    now = None if pd.isna(stamp) else stamp.to_pydatetime()
    png = figure_png(timeline_figure(report.intervals, now=now))
    data = base64.b64encode(png).decode("ascii")
    return (
        '<figure><img alt="Drift timeline: one bar per drift episode" '
        f'src="data:image/png;base64,{data}"></figure>'
    )


def to_html(report: Report) -> str:
    """The report as one self-contained HTML document."""
    report = safe_report(report)
    title = f"Drift report: {report.app}"
    body = [f"<h1>{escape(title)}</h1>", _table(("Summary", ""), summary_rows(report), "summary")]
    episodes = episode_rows(report.intervals)
    if episodes:
        body.extend(["<h2>Drift timeline</h2>", _timeline(report)])
        body.append(_table(EPISODE_HEADER, episodes, "episodes"))
    body.append("<h2>Drifted objects</h2>")
    drift = [o for o in report.objects if o.is_drift]
    if not drift:
        body.append('<p class="note">No drift.</p>')
    body.extend(_object(o, commit_by(report, o)) for o in drift)
    if report.deployments is not None:
        body.append("<h2>Deployments (Git changes)</h2>")
        deploys = deployment_rows(report.deployments)
        body.append(
            _table(DEPLOYMENT_HEADER, deploys, "deployments")
            if deploys
            else '<p class="note">None.</p>'
        )
    if report.health is not None:
        body.append("<h2>Health (kstatus)</h2>")
        restored = restore_rows(report.restores)
        body.append(
            "<h3>Bad rollouts and time to restore</h3>"
            + _table(RESTORE_HEADER, restored, "restores")
            if restored
            else '<p class="note">No run ended Degraded.</p>'
        )
        unhealthy = health_rows(report.health)
        if unhealthy:
            body.append("<h3>Unhealthy episodes</h3>" + _table(HEALTH_HEADER, unhealthy, "health"))
    for title, group in object_groups(report):
        body.append(f"<h2>{escape(title)}</h2>")
        body.extend(_object(o, commit_by(report, o)) for o in group)
    body.append(f"<footer>Generated by gitops-nb at {escape(report.generated_at)}.</footer>")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{escape(CSP)}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
        "<body>\n<main>\n" + "\n".join(body) + "\n</main>\n</body>\n</html>\n"
    )
