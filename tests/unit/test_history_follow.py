"""An app's history follows what it renders from: overlays over bases, components, generator
files, renamed bases, no-op commits, broken and fixed builds.

The expected commits and object changes are computed independently of the code under test:
the whole commit is extracted and built with the real ``kubectl kustomize`` at every commit.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from gitops_nb.binaries import find_binary
from gitops_nb.history.appchanges import commits, resource_changes
from gitops_nb.history.follow import AppHistory
from gitops_nb.history.gitlog import _open
from gitops_nb.source.kustomization import DirectoryTree, closure, references
from tests.factories import revision, sync_run
from tests.gitrepo import GitRepo

APP = "overlays/prod"


def make_repo(path: Path) -> GitRepo:
    """Deterministic commit times, one minute apart, in UTC."""
    return GitRepo(path, name="Dev One", email="dev@example.com", clock=1_790_000_000)


def deployment(image: str, comment: str = "") -> str:
    return (
        f"{comment}apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n"
        "  selector:\n    matchLabels: {app: web}\n  template:\n"
        "    metadata:\n      labels: {app: web}\n"
        f"    spec:\n      containers:\n      - name: web\n        image: {image}\n"
    )


SERVICE = (
    "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n"
    "  selector: {app: web}\n  ports: [{port: 80}]\n"
)
BASE_K = (
    "resources: [deployment.yaml, service.yaml]\n"
    "configMapGenerator:\n- name: web-config\n  files: [app.properties]\n"
)
COMPONENT_K = (
    "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [monitor.yaml]\n"
)


def monitor(interval: str) -> str:
    return (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: monitor\n"
        f"data:\n  interval: '{interval}'\n"
    )


def overlay(base: str, *, component: bool, extra: str = "") -> str:
    comps = "components: [../../components/monitoring]\n" if component else ""
    return f"namespace: prod\nresources: [../../bases/{base}{extra}]\n{comps}"


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    r = make_repo(tmp_path_factory.mktemp("follow") / "repo")
    c: dict[str, Any] = {"repo": r}
    r.write("bases/web/kustomization.yaml", BASE_K)
    r.write("bases/web/deployment.yaml", deployment("nginx:1.27"))
    r.write("bases/web/service.yaml", SERVICE)
    r.write("bases/web/app.properties", "mode=fast\n")
    r.write(f"{APP}/kustomization.yaml", overlay("web", component=False))
    r.write(
        "overlays/staging/kustomization.yaml", "namespace: staging\nresources: [../../bases/web]\n"
    )
    c["init"] = r.commit("web: base and two overlays")
    r.write("bases/web/deployment.yaml", deployment("nginx:1.28"))
    c["bump"] = r.commit("web: nginx 1.28 (base)")
    r.write("bases/web/deployment.yaml", deployment("nginx:1.28", comment="# the web tier\n"))
    c["comment"] = r.commit("web: comment only")
    r.write("bases/web/app.properties", "mode=safe\n")
    c["generator"] = r.commit("web: generator file outside the app directory")
    r.write(
        "overlays/staging/kustomization.yaml",
        "namespace: staging\nresources: [../../bases/web]\nnamePrefix: s-\n",
    )
    c["staging"] = r.commit("staging only")
    r.write("bases/web/README.md", "not rendered\n")
    c["readme"] = r.commit("docs next to the base")
    r.write("components/monitoring/kustomization.yaml", COMPONENT_K)
    r.write("components/monitoring/monitor.yaml", monitor("30s"))
    r.write(f"{APP}/kustomization.yaml", overlay("web", component=True))
    c["component"] = r.commit("prod: monitoring component")
    r.write("components/monitoring/monitor.yaml", monitor("10s"))
    c["component_edit"] = r.commit("monitoring: 10s")
    r.git("mv", "bases/web", "bases/webapp")
    r.write(f"{APP}/kustomization.yaml", overlay("webapp", component=True))
    r.write(
        "overlays/staging/kustomization.yaml",
        "namespace: staging\nresources: [../../bases/webapp]\nnamePrefix: s-\n",
    )
    c["rename"] = r.commit("rename the base")
    r.write("bases/webapp/deployment.yaml", deployment("nginx:1.29", comment="# the web tier\n"))
    c["after_rename"] = r.commit("web: nginx 1.29 (renamed base)")
    r.write(f"{APP}/kustomization.yaml", overlay("webapp", component=True, extra=", missing.yaml"))
    c["break"] = r.commit("prod: reference a file that is not there")
    r.write(f"{APP}/missing.yaml", monitor("1m").replace("monitor", "extra"))
    c["fix"] = r.commit("prod: add the file")
    return c


def _kustomize_everything(repo: Path, commit: str) -> dict[tuple[str, str], Any] | None:
    """The oracle: the whole commit extracted and built by the real kubectl."""
    archive = subprocess.run(
        ["git", "-C", str(repo), "archive", "--format=tar", commit], check=True, capture_output=True
    ).stdout
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        out = subprocess.run(
            [str(find_binary("kubectl")), "kustomize", str(Path(tmp) / APP)],
            capture_output=True,
            text=True,
        )
    if out.returncode != 0:
        return None
    objs = [d for d in yaml.safe_load_all(out.stdout) if d]
    return {(o["kind"], o["metadata"]["name"]): o for o in objs}


def _expected(story: dict[str, Any]) -> dict[str, tuple[str, set[tuple[str, str]]]]:
    """commit → (effect, {(Kind/name, change)}) from the oracle, for a linear history."""
    repo: GitRepo = story["repo"]
    out: dict[str, tuple[str, set[tuple[str, str]]]] = {}
    last: dict[tuple[str, str], Any] = {}
    for sha in repo.git("rev-list", "--reverse", "HEAD").split():
        now = _kustomize_everything(repo.path, sha)
        if now is None:
            out[sha] = ("error", set())
            continue
        changes = set()
        for key in last.keys() | now.keys():
            name = f"{key[0]}/{key[1]}"
            if key not in last:
                changes.add((name, "added"))
            elif key not in now:
                changes.add((name, "removed"))
            elif last[key] != now[key]:
                changes.add((name, "modified"))
        out[sha] = ("changed" if changes else "none", changes)
        last = now
    return out


def _changes(df: pd.DataFrame, sha: str) -> set[tuple[str, str]]:
    rows = df[(df["commit"] == sha) & (df["change"] != "error")]
    return {
        (f"{k}/{n}", ch)
        for k, n, ch in zip(rows["kind"], rows["name"], rows["change"], strict=True)
    }


def test_commits_follow_bases_components_generators_and_renames(story: dict[str, Any]) -> None:
    repo: GitRepo = story["repo"]
    expected = _expected(story)
    df = commits(repo.path, "main", APP)
    got = dict(zip(df["commit"], df["effect"], strict=True))
    # every commit that changed the render (or broke it) is listed, with the oracle's effect
    for sha, (effect, _) in expected.items():
        if effect != "none":
            assert got.get(sha) == effect, (sha, effect, got.get(sha))
    # touched the closure without effect: listed as such
    assert got[story["comment"]] == "none"
    assert got[story["rename"]] == "none"  # same objects after the rename
    # never part of prod's render
    assert story["staging"] not in got
    assert story["readme"] not in got
    assert got[story["bump"]] == "changed"  # a base commit reaches prod
    assert got[story["after_rename"]] == "changed"  # history follows the renamed base
    assert list(df["commit"]) == [s for s in reversed(list(expected)) if s in got]


def test_object_changes_match_kubectl_kustomize(story: dict[str, Any]) -> None:
    repo: GitRepo = story["repo"]
    df = resource_changes(repo.path, "main", APP)
    for sha, (effect, changes) in _expected(story).items():
        if effect == "error":
            errors = df[(df["commit"] == sha) & (df["change"] == "error")]
            assert len(errors) == 1 and "missing.yaml" in str(errors["error"].iloc[0])
        elif sha in set(df["commit"]) or changes:
            assert _changes(df, sha) == changes, sha
    bump = df[(df["commit"] == story["bump"]) & (df["kind"] == "Deployment")].iloc[0]
    assert bump["file"] == "bases/web/deployment.yaml"  # the file that changed, not the overlay
    assert bump["namespace"] == "prod"
    assert bump["fields"] == ["spec.template.spec.containers[name=web].image"]
    fixed = _changes(df, story["fix"])
    assert fixed == {("ConfigMap/extra", "added")}  # compared with the last good render


def test_renders_are_cached_by_the_closure_not_the_app_directory(story: dict[str, Any]) -> None:
    repo: GitRepo = story["repo"]
    r = _open(repo.path)
    try:
        history = AppHistory(r, "main", APP)
        effects = history.effects()
    finally:
        r.close()
    # the app directory's tree is the same at bump and init, but the render differs
    assert {e.commit.commit: e.effect for e in effects}[story["bump"]] == "changed"
    assert history.renders <= len(effects) + 1  # one render per distinct closure state


def test_plain_directory_commits_equal_git_log(tmp_path: Path) -> None:
    r = make_repo(tmp_path / "plain")
    r.write("apps/web/cm.yaml", monitor("1s"))
    a = r.commit("add")
    r.write(
        "apps/web/labels.yaml",
        "apiVersion: builtin\nkind: LabelTransformer\nmetadata:\n  name: l\n",
    )
    b = r.commit("a transformer config is not an object")
    r.write("apps/web/cm.yaml", "# note\n" + monitor("1s"))
    c = r.commit("comment")
    r.write("other/x.yaml", monitor("2s"))
    r.commit("elsewhere")
    log = r.git("log", "--format=%H", "main", "--", "apps/web").split()
    df = commits(r.path, "main", "apps/web")
    assert list(df["commit"]) == log == [c, b, a]
    assert list(df["effect"]) == ["none", "none", "changed"]
    assert resource_changes(r.path, "main", "apps/web")["kind"].tolist() == ["ConfigMap"]


def test_references_cover_every_field_that_names_a_file() -> None:
    doc = yaml.safe_load(
        """
resources: [a.yaml, ../base, "https://github.com/x/y//z?ref=v1", "github.com/x/y/z?ref=v2"]
bases: [../old]
components: [../comp]
crds: [crd.yaml]
configurations: [kconf.yaml]
generators: [gen.yaml]
transformers: [labels.yaml, "apiVersion: builtin\\nkind: LabelTransformer\\n"]
patches: [{path: p1.yaml}, {patch: "inline"}]
patchesStrategicMerge: [p2.yaml]
patchesJson6902: [{path: p3.yaml, target: {kind: X}}]
replacements: [{path: r.yaml}]
configMapGenerator: [{name: a, files: [k=f1.txt, f2.txt], envs: [e.env]}]
secretGenerator: [{name: s, env: s.env}]
openapi: {path: schema.json}
helmCharts: [{name: c, valuesFile: values.yaml}]
"""
    )
    got = {(r.path, r.role) for r in references(doc)}
    assert got == {
        ("a.yaml", "dir"), ("../base", "dir"), ("../old", "dir"), ("../comp", "dir"),
        ("crd.yaml", "file"), ("kconf.yaml", "file"), ("gen.yaml", "file"),
        ("labels.yaml", "file"), ("p1.yaml", "file"), ("p2.yaml", "file"), ("p3.yaml", "file"),
        ("r.yaml", "file"), ("f1.txt", "file"), ("f2.txt", "file"), ("e.env", "file"),
        ("s.env", "file"), ("schema.json", "file"), ("charts", "dir"), ("values.yaml", "file"),
    }  # fmt: skip


def test_closure_on_disk_reports_paths_outside(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app/kustomization.yaml").write_text("resources: [../../etc, a.yaml, gone.yaml]\n")
    (tmp_path / "app/a.yaml").write_text(monitor("1s"))
    cl = closure(DirectoryTree(tmp_path), "app")
    assert cl.kustomize
    assert cl.files == {"app/kustomization.yaml", "app/a.yaml", "app/gone.yaml"}
    assert cl.outside == [("app/kustomization.yaml", "../../etc")]
    assert cl.missing == [("app/kustomization.yaml", "gone.yaml")]


def test_a_base_commit_has_a_lead_time_for_the_overlay(story: dict[str, Any]) -> None:
    from gitops_nb.history import lead_times
    from gitops_nb.history import runs as runs_frame
    from gitops_nb.model import Mode

    repo: GitRepo = story["repo"]
    bump = story["bump"]
    when = repo.git("show", "-s", "--format=%cI", story["component"]).strip()
    import datetime as dt

    later = dt.datetime.fromisoformat(when) + dt.timedelta(hours=1)
    started = later.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    applied = sync_run(
        "r1",
        started,
        app="prod",
        finished=started,
        duration_s=5.0,
        mode=Mode.CORRECT,
        revision=revision(story["component"], when, "Dev One", "prod: monitoring component"),
    )
    lead = lead_times(commits(repo.path, "main", APP), runs_frame([applied]))
    row = lead[lead["commit"] == bump].iloc[0]  # a base commit, applied through the overlay
    assert row["run_id"] == "r1"
    assert row["lead_time"] > pd.Timedelta(0)
    assert story["staging"] not in set(lead["commit"])
