"""Real Git repositories on disk for tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


class Repo:
    """A working repository: copy files in, commit, revert."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.name", "Alice Example")
        self.git("config", "user.email", "alice@example.com")

    def git(self, *args: str) -> str:
        out = subprocess.run(
            ["git", "-C", str(self.path), *args], check=True, capture_output=True, text=True
        )
        return out.stdout.strip()

    def add_fixture(self, name: str, dest: str = ".") -> None:
        shutil.copytree(FIXTURES / name, self.path / dest, dirs_exist_ok=True)

    def write(self, rel: str, text: str) -> None:
        p = self.path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)

    def remove(self, rel: str) -> None:
        self.git("rm", "-q", "-r", rel)

    def commit(self, message: str, author: str | None = None) -> str:
        self.git("add", "-A")
        args = ["commit", "-q", "-m", message]
        if author:
            args += ["--author", author]
        self.git(*args)
        return self.git("rev-parse", "HEAD")

    def revert(self, commit: str) -> str:
        self.git("revert", "--no-edit", commit)
        return self.git("rev-parse", "HEAD")
