"""Real Git repositories on disk for tests, driven by the git CLI (one helper for all)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def git(repo: Path, *args: str, when: str | None = None) -> str:
    """``git -C repo args…``; its stdout without the trailing newline. ``when`` (any date
    git accepts) is both the author and the committer date of what it creates."""
    env = {**os.environ, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when} if when else None
    out = subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env
    )
    return out.stdout.strip()


def init_bare(path: Path) -> Path:
    """An empty bare repository (a remote to push to), default branch ``main``."""
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(path)], check=True)
    return path


class GitRepo:
    """A working repository on branch ``main`` with its own identity: write, commit, revert.

    With ``clock`` (epoch seconds) times are deterministic: the n-th commit, and every
    command run after it until the next, is dated ``clock + 60 n`` seconds, written with
    ``utc_offset``; bump :attr:`tick` to give a merge or revert a minute of its own.
    """

    def __init__(
        self,
        path: Path,
        *,
        name: str = "Alice Example",
        email: str = "alice@example.com",
        clock: int | None = None,
        utc_offset: str = "+0000",
    ) -> None:
        self.path = path
        self.clock = clock
        self.utc_offset = utc_offset
        self.tick = 0
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.name", name)
        self.git("config", "user.email", email)
        self.git("config", "commit.gpgsign", "false")

    def git(self, *args: str, when: str | None = None) -> str:
        if when is None and self.clock is not None:
            when = f"@{self.clock + self.tick * 60} {self.utc_offset}"
        return git(self.path, *args, when=when)

    def write(self, rel: str, text: str) -> None:
        p = self.path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)

    def add_fixture(self, name: str, dest: str = ".") -> None:
        """Copy ``tests/fixtures/<name>`` into the working tree at ``dest``."""
        shutil.copytree(FIXTURES / name, self.path / dest, dirs_exist_ok=True)

    def remove(self, rel: str) -> None:
        self.git("rm", "-q", "-r", rel)

    def commit(self, message: str, *, author: str | None = None, when: str | None = None) -> str:
        """Commit everything in the working tree; the new commit's SHA."""
        self.tick += 1
        self.git("add", "-A")
        args = ["commit", "-q", "-m", message]
        if author:
            args += ["--author", author]
        self.git(*args, when=when)
        return self.head()

    def revert(self, commit: str) -> str:
        self.git("revert", "--no-edit", commit)
        return self.head()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")

    def set_origin(self, bare: Path) -> None:
        """Make ``bare`` this repository's ``origin``."""
        self.git("remote", "add", "origin", str(bare))


CLONE_CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: '{}'\n"
#: every kind of local clone ``--repo`` accepts (see :func:`local_clone`)
CLONE_KINDS = (
    "worktree",
    "bare",
    "file-url",
    "linked-worktree",
    "shallow",
)


def local_clone(kind: str, tmp_path: Path) -> tuple[str, str, list[str]]:
    """A ``--repo`` value of the given kind (one of :data:`CLONE_KINDS`), its tip, and the
    commits that touched ``app/`` in the history it holds, newest first."""
    origin = GitRepo(tmp_path / "origin")
    shas = []
    for i in range(3):
        origin.write("app/cm.yaml", CLONE_CM.format(i))
        shas.append(origin.commit(f"app v{i}"))
    origin.write("README.md", "not the app\n")
    tip = origin.commit("docs")
    shas.reverse()
    if kind == "worktree":
        return str(origin.path), tip, shas
    if kind in ("bare", "file-url"):
        bare = tmp_path / "bare.git"
        subprocess.run(["git", "clone", "-q", "--bare", str(origin.path), str(bare)], check=True)
        return (str(bare) if kind == "bare" else bare.as_uri()), tip, shas
    if kind == "linked-worktree":
        linked = tmp_path / "linked"
        origin.git("worktree", "add", "-q", "-b", "feature", str(linked))
        return str(linked), tip, shas
    shallow = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", origin.path.as_uri(), str(shallow)], check=True
    )
    # Its history ends where the clone does: the one commit holds (adds) every file.
    return str(shallow), tip, [tip]
