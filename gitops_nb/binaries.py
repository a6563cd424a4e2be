"""Where the Go-built tool binaries live: the control plane, kubectl (and its kustomize).

``tools/controlplane/build.sh`` builds them once into a versioned cache directory; the
local cluster runs them and the renderer may use the cached kubectl for ``kustomize``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from gitops_nb.errors import ToolMissingError

KUBERNETES_VERSION = "v1.36.3"
ETCD_VERSION = "v3.6.8"
BINARIES = ("etcd", "kube-apiserver", "kube-controller-manager", "kubectl")
HELM = "helm-v3.22.0"
"""tools/helm/build.sh builds it next to the control plane (keep the two versions equal)."""
BUILD_COMMAND = "make controlplane  (runs tools/controlplane/build.sh and tools/helm/build.sh)"


def cache_home() -> Path:
    """``$XDG_CACHE_HOME/gitops-nb`` (default ``~/.cache/gitops-nb``): every cache is below it."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "gitops-nb"


def binary_dir() -> Path:
    """Where the control-plane binaries live (``$GITOPS_NB_CONTROLPLANE_DIR`` overrides)."""
    override = os.environ.get("GITOPS_NB_CONTROLPLANE_DIR")
    if override:
        return Path(override)
    return cache_home() / "controlplane" / f"k8s-{KUBERNETES_VERSION}_etcd-{ETCD_VERSION}"


def find_binary(name: str) -> Path:
    """Path of a cached control-plane binary, or a ToolMissingError naming the build command."""
    path = binary_dir() / name
    if path.is_file() and os.access(path, os.X_OK):
        return path
    hint = "" if shutil.which("go") else " (Go >= 1.26 is needed to build it: install Go first)"
    raise ToolMissingError(
        f"{name} not found in {path.parent}; build it with: {BUILD_COMMAND}{hint}"
    )
