"""The shipped image holds what verification and Helm need (the Dockerfile is not built in
CI: no container engine; ``docker build`` is the real check). Read, not built, here."""

from __future__ import annotations

import re
from pathlib import Path

from gitops_nb.binaries import HELM

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def _instructions() -> list[str]:
    """Instructions with continuation lines joined and comments dropped."""
    lines = [ln for ln in DOCKERFILE.splitlines() if not ln.lstrip().startswith("#")]
    return [" ".join(i.split()) for i in "\n".join(lines).replace("\\\n", " ").splitlines() if i]


def test_image_has_git_ssh_keygen_and_gpg_from_debian() -> None:
    [install] = [i for i in _instructions() if "apt-get install" in i]
    packages = set(install.split("apt-get install", 1)[1].split("&&", 1)[0].split())
    assert {"git", "openssh-client", "gnupg", "ca-certificates"} <= packages


def test_image_builds_the_pinned_helm_as_the_project_does() -> None:
    steps = _instructions()
    assert any(re.match(r"FROM \S+ AS helm$", s) for s in steps)
    build = next(s for s in steps if "tools/helm/build.sh" in s and s.startswith("RUN"))
    assert "GITOPS_NB_CONTROLPLANE_DIR=/out" in build
    script = (ROOT / "tools/helm/build.sh").read_text()
    pinned = re.search(r"^HELM_VERSION=(\S+)$", script, re.M)
    assert pinned is not None and f"helm-{pinned.group(1)}" == HELM  # one pinned version
    assert "COPY --from=helm /out/helm /usr/local/bin/helm" in steps
    assert any("GITOPS_NB_HELM=/usr/local/bin/helm" in s for s in steps if s.startswith("ENV"))
    # what the helm stage copies is sent to the build
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    for step in steps:
        if step.startswith("COPY tools/"):
            assert f"!{step.split()[1]}" in ignore
