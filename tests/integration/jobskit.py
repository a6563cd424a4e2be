"""What the jobs/ manifest tests share: the install's namespace, the credentials placeholder,
and picking the one object of a kind out of a rendered install."""

from __future__ import annotations

import re
from typing import Any

from gitops_nb.model import Manifest

INSTALL_NS = "gitops-nb"
PLACEHOLDER = re.compile(r"^REPLACE_ME$")


def one(ms: list[Manifest], kind: str) -> dict[str, Any]:
    found = [m.obj for m in ms if m.obj["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, got {len(found)}"
    return found[0]
