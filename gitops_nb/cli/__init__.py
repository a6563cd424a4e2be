"""The ``gitops-nb`` command: one module per group of sub-commands, no cycles.

``main`` builds the parser from each module's ``register``; ``common`` holds what they share.
"""

from __future__ import annotations

from gitops_nb.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
