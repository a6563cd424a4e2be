from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from gitops_nb.errors import (
    AuthError,
    ConfigError,
    RefNotFoundError,
    SourceError,
    SourceUnreachableError,
    UnsafeSourceError,
)
from gitops_nb.source.credentials import Credentials, git_config_args, git_environment
from gitops_nb.source.git import (
    Checkout,
    SourceSpec,
    classify_git_error,
    fetch,
    mirror_path,
    resolve,
)
from gitops_nb.source.validation import redact_url, validate_ref, validate_url
from tests.gitrepo import GitRepo, init_bare


@dataclass
class Upstream:
    """A working clone that pushes to a bare repository, both in tmp_path."""

    repo: GitRepo
    bare: Path

    @property
    def work(self) -> Path:
        return self.repo.path

    def commit(
        self, files: dict[str, str], message: str, when: str = "2026-11-28T10:00:00+02:00"
    ) -> str:
        for rel, text in files.items():
            self.repo.write(rel, text)
        sha = self.repo.commit(message, when=when)
        self.repo.git("push", "-q", "origin", "HEAD:main")
        return sha


@pytest.fixture
def upstream(tmp_path: Path) -> Upstream:
    bare = init_bare(tmp_path / "remote.git")
    work = GitRepo(tmp_path / "work", name="Ada Lovelace", email="ada@example.com")
    work.set_origin(bare)
    return Upstream(work, bare)


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def test_fetch_head_via_file_url(upstream: Upstream, cache: Path) -> None:
    sha = upstream.commit({"app/cm.yaml": "kind: ConfigMap\n"}, "first\n\nbody line")
    co = fetch(SourceSpec(f"file://{upstream.bare}", path="app"), cache)
    assert co.revision.commit == sha
    assert co.revision.time == "2026-11-28T08:00:00Z"
    assert co.revision.author == "Ada Lovelace <ada@example.com>"
    assert co.revision.message == "first\n\nbody line\n"
    assert co.root == cache / "checkouts" / sha
    assert (co.app_dir / "cm.yaml").read_text() == "kind: ConfigMap\n"
    assert not (co.root / ".git").exists()


def test_resolve_branch_tag_full_and_short_sha(upstream: Upstream, cache: Path) -> None:
    first = upstream.commit({"a.yaml": "v: 1\n"}, "one")
    upstream.repo.git("tag", "-a", "v1", "-m", "release")  # annotated: peeled to the commit
    upstream.repo.git("branch", "feature")
    upstream.repo.git("push", "-q", "origin", "v1", "feature")
    second = upstream.commit({"a.yaml": "v: 2\n"}, "two")
    url = str(upstream.bare)
    assert resolve(SourceSpec(url, "main"), cache).commit == second
    assert resolve(SourceSpec(url, "HEAD"), cache).commit == second
    assert resolve(SourceSpec(url, "v1"), cache).commit == first
    assert resolve(SourceSpec(url, "refs/tags/v1"), cache).commit == first
    assert resolve(SourceSpec(url, "feature"), cache).commit == first
    assert resolve(SourceSpec(url, first), cache).commit == first
    assert resolve(SourceSpec(url, first[:8]), cache).commit == first
    assert len(list((cache / "mirrors").glob("*.git"))) == 1  # one mirror per URL


def test_checkout_matches_commit_not_working_tree(upstream: Upstream, cache: Path) -> None:
    first = upstream.commit({"app/a.yaml": "v: 1\n", "app/gone.yaml": "x: 1\n"}, "one")
    (upstream.work / "app/gone.yaml").unlink()
    upstream.commit({"app/a.yaml": "v: 2\n"}, "two")
    (upstream.work / "app/a.yaml").write_text("uncommitted\n")
    (upstream.work / "app/untracked.yaml").write_text("u: 1\n")
    old = fetch(SourceSpec(str(upstream.work), first), cache)
    assert sorted(p.name for p in (old.root / "app").iterdir()) == [
        "a.yaml",
        "gone.yaml",
    ]
    new = fetch(SourceSpec(str(upstream.work), "main"), cache)
    assert (new.root / "app/a.yaml").read_text() == "v: 2\n"
    assert sorted(p.name for p in (new.root / "app").iterdir()) == ["a.yaml"]
    assert (old.root / "app/a.yaml").read_text() == "v: 1\n"  # distinct trees per commit


def test_new_upstream_commit_seen_on_next_fetch(upstream: Upstream, cache: Path) -> None:
    first = upstream.commit({"a.yaml": "v: 1\n"}, "one")
    spec = SourceSpec(f"file://{upstream.bare}", "main")
    assert fetch(spec, cache).revision.commit == first
    second = upstream.commit({"a.yaml": "v: 2\n"}, "two")
    co = fetch(spec, cache)
    assert co.revision.commit == second
    assert (co.root / "a.yaml").read_text() == "v: 2\n"


def test_deleted_branch_is_pruned(upstream: Upstream, cache: Path) -> None:
    upstream.commit({"a.yaml": "v: 1\n"}, "one")
    upstream.repo.git("push", "-q", "origin", "HEAD:refs/heads/tmp")
    spec = SourceSpec(str(upstream.bare), "tmp")
    resolve(spec, cache)
    upstream.repo.git("push", "-q", "origin", ":refs/heads/tmp")
    with pytest.raises(RefNotFoundError):
        resolve(spec, cache)


def test_checkout_reused(upstream: Upstream, cache: Path) -> None:
    upstream.commit({"a.yaml": "v: 1\n"}, "one")
    spec = SourceSpec(str(upstream.bare))
    co = fetch(spec, cache)
    marker = co.root / "marker"
    marker.write_text("kept")
    assert fetch(spec, cache).root == co.root
    assert marker.exists()
    assert [p.name for p in (cache / "checkouts").iterdir()] == [co.revision.commit]


def test_missing_ref_names_ref_and_url_without_userinfo(upstream: Upstream, cache: Path) -> None:
    upstream.commit({"a.yaml": "v: 1\n"}, "one")
    with pytest.raises(RefNotFoundError) as e:
        resolve(SourceSpec(str(upstream.bare), "nope"), cache)
    assert "'nope'" in str(e.value) and str(upstream.bare) in str(e.value)
    with pytest.raises(RefNotFoundError):
        resolve(SourceSpec(str(upstream.bare), "0" * 40), cache)
    with pytest.raises(RefNotFoundError):
        resolve(SourceSpec(str(upstream.bare), "refs/pull/1/head"), cache)


def test_head_of_empty_repository_not_found(upstream: Upstream, cache: Path) -> None:
    with pytest.raises(RefNotFoundError):
        resolve(SourceSpec(str(upstream.bare)), cache)


@pytest.mark.parametrize("scheme", ["", "file://"])
def test_nonexistent_path_is_a_one_line_permanent_error(
    tmp_path: Path, cache: Path, scheme: str
) -> None:
    url = f"{scheme}{tmp_path / 'missing'}"
    with pytest.raises(SourceError) as e:
        resolve(SourceSpec(url), cache)
    assert not isinstance(e.value, SourceUnreachableError)  # a typo, not an outage: exit 2
    assert e.value.exit_code == 2
    assert str(e.value) == f"repository {url}: no such directory"
    assert not (cache / "mirrors").exists() or list((cache / "mirrors").glob("*.git")) == []


def test_a_directory_that_is_no_repository_says_so(tmp_path: Path, cache: Path) -> None:
    (tmp_path / "plain").mkdir()
    with pytest.raises(SourceError, match=r"plain: not a Git repository"):
        resolve(SourceSpec(str(tmp_path / "plain")), cache)


def test_unsafe_inputs_refused_and_nothing_created(upstream: Upstream, tmp_path: Path) -> None:
    upstream.commit({"a.yaml": "v: 1\n"}, "one")
    cache = tmp_path / "unsafe-cache"
    pwned = tmp_path / "pwned"
    bad = [
        SourceSpec(f"ext::sh -c touch% {pwned}"),
        SourceSpec(f"--upload-pack=touch {pwned}"),
        SourceSpec(f"fd::3,{pwned}"),
        SourceSpec(str(upstream.bare), ref=f"--output={pwned}"),
        SourceSpec(str(upstream.bare), ref="main..HEAD"),
        SourceSpec(str(upstream.bare), path="../etc"),
        SourceSpec(str(upstream.bare), path="/etc"),
    ]
    for spec in bad:
        with pytest.raises(UnsafeSourceError):
            fetch(spec, cache)
    assert not pwned.exists()
    assert not cache.exists()


@pytest.mark.parametrize(
    "url",
    [
        "ext::sh -c touch%20/tmp/pwned",
        "--upload-pack=touch x",
        "-oProxyCommand=x",
        "http://example.com/repo.git",
        "git://example.com/repo.git",
        "ftp://example.com/repo.git",
        "https://user:s3cret@example.com/repo.git",
        "ssh://-oProxyCommand=x/repo",
        "-host:repo",
        "host:-repo",
        "file:///tmp/a\nb",
        "",
    ],
)
def test_validate_url_refuses(url: str) -> None:
    with pytest.raises(UnsafeSourceError) as e:
        validate_url(url)
    assert "s3cret" not in str(e.value)


@pytest.mark.parametrize(
    "url",
    [
        "/srv/git/repo.git",
        "relative/repo",
        "file:///srv/git/repo.git",
        "https://github.com/org/repo.git",
        "https://token-user@github.com/org/repo.git",
        "ssh://git@github.com:22/org/repo.git",
        "git@github.com:org/repo.git",
    ],
)
def test_validate_url_accepts(url: str) -> None:
    validate_url(url)


@pytest.mark.parametrize(
    "ref",
    [
        "--output=/tmp/x",
        "-b",
        "a..b",
        "main@{1}",
        "@",
        "has space",
        "tab\there",
        "HEAD~1",
        "main^",
        "a:b",
        "refs/heads/.hidden",
        "x.lock",
        "",
    ],
)
def test_validate_ref_refuses(ref: str) -> None:
    with pytest.raises(UnsafeSourceError):
        validate_ref(ref)


@pytest.mark.parametrize(
    "ref", ["HEAD", "main", "release/1.2", "v1.0.0", "refs/tags/v1", "abc1234"]
)
def test_validate_ref_accepts(ref: str) -> None:
    validate_ref(ref)


def test_app_dir_symlink_escape_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "link").symlink_to(tmp_path)
    co = Checkout(SourceSpec("/x", path="link"), revision=None, root=root)  # type: ignore[arg-type]
    with pytest.raises(UnsafeSourceError):
        _ = co.app_dir


def test_mirror_name_is_sha256_of_url(tmp_path: Path) -> None:
    a = mirror_path("https://example.com/r.git", tmp_path)
    assert a.parent == tmp_path / "mirrors" and len(a.stem) == 64
    assert a != mirror_path("https://example.com/other.git", tmp_path)
    assert redact_url("https://u:p@h/x https://t@h/y") == "https://h/x https://h/y"


# --- credentials ----------------------------------------------------------------------------


def test_credentials_from_env(tmp_path: Path) -> None:
    env = {
        "GITOPS_NB_GIT_TOKEN_FILE": str(tmp_path / "t"),
        "GITOPS_NB_GIT_SSH_KEY_FILE": "",
        "GITOPS_NB_GIT_KNOWN_HOSTS_FILE": str(tmp_path / "kh"),
    }
    assert Credentials.from_env(env) == Credentials(
        token_file=tmp_path / "t", known_hosts_file=tmp_path / "kh"
    )


def test_askpass_secret_never_in_argv_or_env(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("s3cr3t-token\n")
    creds = Credentials(token_file=token)
    with git_environment(creds) as (env, extra):
        argv = ["git", *git_config_args(), *extra]
        assert not any("s3cr3t" in a for a in argv)
        assert not any("s3cr3t" in v for v in env.values())
        askpass = Path(env["GIT_ASKPASS"])
        assert "s3cr3t" not in askpass.read_text()
        assert askpass.stat().st_mode & 0o777 == 0o700
        assert env["GIT_TERMINAL_PROMPT"] == "0" and env["GIT_PROTOCOL_FROM_USER"] == "0"
        # git itself obtains the credential through the helper
        out = subprocess.run(
            ["git", *extra, "credential", "fill"],
            input="protocol=https\nhost=example.com\n\n",
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert "username=git\n" in out and "password=s3cr3t-token\n" in out
    assert not askpass.exists()  # removed with its private directory


def test_askpass_username_file(tmp_path: Path) -> None:
    (tmp_path / "u").write_text("robot\n")
    (tmp_path / "p").write_text("pw\n")
    creds = Credentials(username_file=tmp_path / "u", password_file=tmp_path / "p")
    with git_environment(creds) as (env, extra):
        out = subprocess.run(
            ["git", *extra, "credential", "fill"],
            input="protocol=https\nhost=example.com\n\n",
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    assert "username=robot\n" in out and "password=pw\n" in out


def test_ssh_command_uses_files_and_strict_checking(tmp_path: Path) -> None:
    key = tmp_path / "my key"
    key.write_text("KEYMATERIAL")
    key.chmod(0o600)
    kh = tmp_path / "known_hosts"
    kh.write_text("")
    with git_environment(Credentials(ssh_key_file=key, known_hosts_file=kh)) as (env, _):
        cmd = env["GIT_SSH_COMMAND"]
    assert "KEYMATERIAL" not in cmd
    assert f"-i '{key}'" in cmd
    for opt in ("IdentitiesOnly=yes", "StrictHostKeyChecking=yes", "BatchMode=yes"):
        assert opt in cmd
    assert f"UserKnownHostsFile={kh}" in cmd


def test_protocol_allow_list() -> None:
    args = git_config_args()
    assert "protocol.allow=never" in args
    assert {"protocol.file.allow=always", "protocol.https.allow=always"} <= set(args)
    assert not any(a.startswith("protocol.ext") for a in args)


def test_ssh_key_without_known_hosts_is_config_error(tmp_path: Path) -> None:
    key = tmp_path / "id"
    key.write_text("k")
    spec = SourceSpec("git@example.com:org/repo.git", credentials=Credentials(ssh_key_file=key))
    with pytest.raises(ConfigError, match="known_hosts"):
        fetch(spec, tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def test_unreadable_credential_file_is_config_error(tmp_path: Path) -> None:
    creds = Credentials(token_file=tmp_path / "absent")
    with pytest.raises(ConfigError, match="token_file"):
        resolve(SourceSpec("https://example.com/r.git", credentials=creds), tmp_path / "cache")


def test_connection_refused_is_unreachable(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("s3cr3t")
    spec = SourceSpec("https://robot@127.0.0.1:9/r.git", credentials=Credentials(token_file=token))
    with pytest.raises(SourceUnreachableError) as e:
        resolve(spec, tmp_path / "cache")
    assert "s3cr3t" not in str(e.value) and "robot" not in str(e.value)


@pytest.mark.parametrize(
    ("stderr", "kind"),
    [
        ("fatal: Authentication failed for 'https://x@h/r.git/'", AuthError),
        ("git@h: Permission denied (publickey).\nfatal: Could not read from remote", AuthError),
        ("fatal: could not read Username for 'https://h': terminal prompts disabled", AuthError),
        (
            "fatal: unable to access 'https://h/r/': The requested URL returned error: 403",
            AuthError,
        ),
        ("fatal: couldn't find remote ref refs/heads/x", RefNotFoundError),
        ("fatal: unable to access 'https://h/': Could not resolve host: h", SourceUnreachableError),
    ],
)
def test_git_errors_classified(stderr: str, kind: type[Exception]) -> None:
    err = classify_git_error(stderr, "https://user:pw@h/r.git", "x")
    assert type(err) is kind
    assert "pw" not in str(err) and "user" not in str(err)
