"""Source stage: fetch a commit from Git, render it to validated manifests.

``git`` fetches and checks out (credentials from files, injection refused), ``yamlsafe``
parses YAML safely, ``render`` turns a directory (plain YAML/JSON or Kustomize) into
:class:`~gitops_nb.model.Manifest` objects, and ``fetch`` joins the two.
"""

from __future__ import annotations

from gitops_nb.source.credentials import Credentials
from gitops_nb.source.fetch import Rendered, default_app_name, default_cache_dir, fetch_and_render
from gitops_nb.source.git import Checkout, SourceSpec, fetch, resolve
from gitops_nb.source.render import render
from gitops_nb.source.validation import redact_url

__all__ = [
    "Checkout",
    "Credentials",
    "Rendered",
    "SourceSpec",
    "default_app_name",
    "default_cache_dir",
    "fetch",
    "fetch_and_render",
    "redact_url",
    "render",
    "resolve",
]
