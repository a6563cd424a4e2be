"""Cluster and Git values as inert text, one escaper per output format.

Anything read from the cluster or from Git (values, manager names, errors) may be hostile:
``</td><script>`` in a Markdown table, ``=HYPERLINK(...)`` in a spreadsheet. Every output of
a format goes through the same escaper here, whichever command writes it (``diff -o
markdown`` and ``report --format markdown``, ``history -o csv`` and ``report --format
csv``). Rich tables take values as :class:`rich.text.Text`, which is never read as markup.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# CommonMark lets any ASCII punctuation be backslash-escaped; these are the ones that act
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|#!~])")
# what a spreadsheet reads as the start of a formula (or of a cell it shifts into one)
_FORMULA = ("=", "+", "-", "@", "\t", "\r", "\n")


def markdown(text: str) -> str:
    """Text safe in a Markdown table cell or heading: punctuation that acts (``|``, ``<``,
    backticks, emphasis, links) is backslash-escaped and line breaks become ``<br>``."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", text.replace("\r\n", "\n"))
    return escaped.replace("\n", "<br>")


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A GitHub-flavoured Markdown table, every cell through :func:`markdown`."""
    lines = ["| " + " | ".join(markdown(h) for h in header) + " |"]
    lines.append("|" + "|".join("---" for _ in header) + "|")
    lines.extend("| " + " | ".join(markdown(c) for c in row) + " |" for row in rows)
    return lines


def csv_cell(text: str) -> str:
    """Neutralise spreadsheet formulas (``=cmd|...``) from cluster values; numbers stay.

    A carriage return becomes a line feed: the csv module quotes a cell only for the line
    terminator (``\\n``), so a bare CR went out unquoted and a spreadsheet started a new row,
    and possibly a formula, after it.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.startswith(_FORMULA):
        try:
            float(text)
        except ValueError:
            return "'" + text
    return text
