"""Git push is not cluster admin: policy, self-protection and impersonation, on a real API server.

Each attack of issue 13 is a commit whose objects the run must refuse before its first
write: the refusal names the object, its file:line and the rule, and the cluster keeps no
trace (the harmless object next to the attack is not created either).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops_nb.cli import main
from gitops_nb.engine import Engine, SyncOptions
from gitops_nb.errors import ForbiddenError, PolicyError
from gitops_nb.kube.client import Kube, service_account_user
from gitops_nb.localcluster import LocalCluster
from gitops_nb.model import Action, DiffStatus, Manifest
from gitops_nb.policyspec import Policy
from gitops_nb.source.render import render
from tests.gitrepo import GitRepo

PRIVILEGED_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: root
  namespace: {ns}
spec:
  serviceAccountName: gitops-nb-reconciler
  hostPID: true
  hostNetwork: true
  containers:
    - name: sh
      image: busybox
      securityContext: {{privileged: true}}
      volumeMounts: [{{name: host, mountPath: /host}}, {{name: git, mountPath: /git}}]
  volumes:
    - {{name: host, hostPath: {{path: /}}}}
    - {{name: git, secret: {{secretName: gitops-nb-git}}}}
"""


def token_secret(ns: str) -> str:
    return f"""\
apiVersion: v1
kind: Secret
metadata:
  name: forever
  namespace: {ns}
  annotations:
    kubernetes.io/service-account.name: gitops-nb-reconciler
type: kubernetes.io/service-account-token
"""


def config_rewrite(ns: str) -> str:
    return f"""\
apiVersion: v1
kind: ConfigMap
metadata:
  name: gitops-nb-config
  namespace: {ns}
data:
  config.yaml: "repo: https://evil.example/repo.git"
"""


KUBE_SYSTEM_RELABEL = """\
apiVersion: v1
kind: Namespace
metadata:
  name: kube-system
  labels:
    pod-security.kubernetes.io/enforce: privileged
"""

KUBE_SYSTEM_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: gc
  namespace: kube-system
spec:
  serviceAccountName: generic-garbage-collector
  containers: [{name: sh, image: busybox}]
"""

CLUSTER_ADMIN_BINDING = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: pwned
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: default, namespace: default}]
"""

HARMLESS = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: harmless
data:
  k: v
"""


def fresh_namespace(kube: Kube) -> str:
    name = f"t-{uuid.uuid4().hex[:10]}"
    kube.create(
        "/api/v1/namespaces",
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
    )
    return name


@pytest.fixture
def reconciler_ns(kube: Kube) -> Iterator[str]:
    """The reconciler's own namespace, with its config and Git credentials."""
    ns = fresh_namespace(kube)
    kube.create(
        f"/api/v1/namespaces/{ns}/configmaps",
        yaml.safe_load(config_rewrite(ns).replace("evil.example", "git.example")),
    )
    kube.create(
        f"/api/v1/namespaces/{ns}/secrets",
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "gitops-nb-git"}},
    )
    yield ns
    kube.delete(f"/api/v1/namespaces/{ns}")


def app_dir(tmp_path: Path, files: dict[str, str]) -> list[Manifest]:
    d = tmp_path / f"app-{uuid.uuid4().hex[:6]}"
    d.mkdir()
    for name, text in {"harmless.yaml": HARMLESS, **files}.items():
        (d / name).write_text(text)
    return render(d)


def opts(app_ns: str, reconciler_ns: str, **kw: Any) -> SyncOptions:
    return SyncOptions(
        app="web", namespace=app_ns, policy=Policy(reconciler_namespace=reconciler_ns), **kw
    )


def refused(kube: Kube, manifests: list[Manifest], o: SyncOptions) -> str:
    with pytest.raises(PolicyError) as err:
        Engine(kube).apply(manifests, o)
    assert kube.get_or_none(f"/api/v1/namespaces/{o.namespace}/configmaps/harmless") is None
    assert kube.get_or_none(f"/api/v1/namespaces/{o.namespace}/configmaps/gitops-nb.web") is None
    return str(err.value)


def test_privileged_pod_in_the_reconcilers_namespace_is_refused(
    kube: Kube, namespace: str, reconciler_ns: str, tmp_path: Path
) -> None:
    ms = app_dir(tmp_path, {"pod.yaml": PRIVILEGED_POD.format(ns=reconciler_ns)})
    msg = refused(kube, ms, opts(namespace, reconciler_ns))
    assert f"pod.yaml:1: Pod/{reconciler_ns}/root:" in msg
    assert "reconciler's own" in msg and "self-protection" in msg
    assert kube.get_or_none(f"/api/v1/namespaces/{reconciler_ns}/pods/root") is None


def test_token_secret_is_refused_in_any_namespace(
    kube: Kube, namespace: str, reconciler_ns: str, tmp_path: Path
) -> None:
    for ns in (reconciler_ns, namespace):
        ms = app_dir(tmp_path, {"token.yaml": token_secret(ns)})
        msg = refused(kube, ms, opts(namespace, reconciler_ns))
        assert f"token.yaml:1: Secret/{ns}/forever:" in msg
        assert "kubernetes.io/service-account-token" in msg and "policy.tokenSecrets" in msg
        assert kube.get_or_none(f"/api/v1/namespaces/{ns}/secrets/forever") is None


def test_rewriting_the_reconcilers_config_is_refused(
    kube: Kube, namespace: str, reconciler_ns: str, tmp_path: Path
) -> None:
    path = f"/api/v1/namespaces/{reconciler_ns}/configmaps/gitops-nb-config"
    before = kube.get(path)
    ms = app_dir(tmp_path, {"config.yaml": config_rewrite(reconciler_ns)})
    # Even with a policy that names the namespace: self-protection is not configurable.
    o = SyncOptions(
        app="web",
        namespace=namespace,
        policy=Policy(namespaces=(namespace, reconciler_ns), reconciler_namespace=reconciler_ns),
    )
    msg = refused(kube, ms, o)
    assert f"config.yaml:1: ConfigMap/{reconciler_ns}/gitops-nb-config:" in msg
    after = kube.get(path)
    assert after["data"] == before["data"]
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]


def test_kube_system_relabel_and_pod_are_refused(
    kube: Kube, namespace: str, reconciler_ns: str, tmp_path: Path
) -> None:
    before = kube.get("/api/v1/namespaces/kube-system")
    ms = app_dir(tmp_path, {"ns.yaml": KUBE_SYSTEM_RELABEL, "pod.yaml": KUBE_SYSTEM_POD})
    # A glob never reaches a system namespace.
    o = SyncOptions(
        app="web",
        namespace=namespace,
        policy=Policy(namespaces=("*",), reconciler_namespace=reconciler_ns),
    )
    msg = refused(kube, ms, o)
    assert "ns.yaml:1: Namespace/kube-system: system namespace kube-system" in msg
    assert "pod.yaml:1: Pod/kube-system/gc: system namespace kube-system" in msg
    after = kube.get("/api/v1/namespaces/kube-system")
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    assert "pod-security.kubernetes.io/enforce" not in (after["metadata"].get("labels") or {})
    assert kube.get_or_none("/api/v1/namespaces/kube-system/pods/gc") is None


def test_cluster_rbac_is_refused_unless_listed(
    kube: Kube, namespace: str, reconciler_ns: str, tmp_path: Path
) -> None:
    ms = app_dir(tmp_path, {"crb.yaml": CLUSTER_ADMIN_BINDING})
    msg = refused(kube, ms, opts(namespace, reconciler_ns))
    assert "crb.yaml:1: ClusterRoleBinding/pwned: cluster-scoped kind ClusterRoleBinding" in msg
    assert "policy.clusterKinds" in msg
    path = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/pwned"
    assert kube.get_or_none(path) is None


def test_namespaces_and_kinds_of_the_policy(
    kube: Kube, namespace: str, reconciler_ns: str, tmp_path: Path
) -> None:
    other = fresh_namespace(kube)
    try:
        elsewhere = HARMLESS.replace("name: harmless", f"name: elsewhere\n  namespace: {other}")
        ms = app_dir(tmp_path, {"other.yaml": elsewhere})
        o = SyncOptions(
            app="web",
            namespace=namespace,
            policy=Policy(
                namespaces=(namespace,), deny_kinds=("Secret",), reconciler_namespace=reconciler_ns
            ),
        )
        msg = refused(kube, ms, o)
        assert f"other.yaml:1: ConfigMap/{other}/elsewhere: namespace {other} is not in" in msg
        assert kube.get_or_none(f"/api/v1/namespaces/{other}/configmaps/elsewhere") is None
        # Diff refuses as well (a read-only verb must not hide a violation).
        with pytest.raises(PolicyError):
            Engine(kube).diff(ms, o)
        # The policy allows what it lists: same set, namespace listed → applied.
        ok = Engine(kube).apply(
            ms, SyncOptions(app="web", namespace=namespace, policy=Policy(namespaces=("t-*",)))
        )
        assert not ok.failed, ok.failed
    finally:
        kube.delete(f"/api/v1/namespaces/{other}")


# -- impersonation ----------------------------------------------------------------------------


RBAC = "rbac.authorization.k8s.io"


def grant_edit(kube: Kube, ns: str, sa: str) -> Kube:
    """ServiceAccount ``sa`` in ``ns`` bound to ``edit`` there; a client acting as it, once
    the authorizer (and the aggregation controller that fills ``edit``) can tell."""
    kube.create(
        f"/api/v1/namespaces/{ns}/serviceaccounts",
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": sa}},
    )
    kube.create(
        f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings",
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": f"{sa}-edit"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "edit",
            },
            "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": ns}],
        },
    )
    as_sa = kube.impersonating(service_account_user(ns, sa))
    deadline = time.monotonic() + 30
    while True:
        try:
            as_sa.list(f"/api/v1/namespaces/{ns}/configmaps")
            return as_sa
        except ForbiddenError:
            assert time.monotonic() < deadline, "edit never took effect"
            time.sleep(0.2)


ROLE = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: exec
rules: [{apiGroups: [""], resources: [pods/exec], verbs: [create]}]
"""


def test_impersonation_enforces_the_apps_own_rights(
    kube: Kube, namespace: str, reconciler_ns: str, tmp_path: Path
) -> None:
    as_sa = grant_edit(kube, namespace, "app")
    as_sa.close()
    ms = app_dir(tmp_path, {"role.yaml": ROLE})
    o = opts(namespace, reconciler_ns, service_account="app")
    engine = Engine(kube)
    try:
        report = engine.diff(ms, o)
        [err] = [e for e in report.items if e.status is DiffStatus.ERROR]
        assert f"role.yaml:1: Role/{namespace}/exec" in (err.diff.error or "")
        assert "forbidden" in (err.diff.error or "").lower()
        assert f"system:serviceaccount:{namespace}:app" in (err.diff.error or "")
        changes = engine.apply(ms, o)
    finally:
        engine.close()
    [failed] = changes.failed
    assert str(failed.ref) == f"Role/{namespace}/exec"
    assert "forbidden" in (failed.error or "").lower()
    role = f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/roles/exec"
    assert kube.get_or_none(role) is None  # nothing written for it
    # What edit allows was applied as the app (the admin client would have written both).
    assert {e.action for e in changes.entries if e.ref.kind == "ConfigMap"} == {Action.CREATED}
    # Without impersonation the same set applies: the rights were the app's, not ours.
    assert not Engine(kube).apply(ms, opts(namespace, reconciler_ns)).failed
    assert kube.get_or_none(role) is not None


def test_cli_refuses_before_any_write_and_names_the_rule(
    capsys: pytest.CaptureFixture[str],
    cluster: LocalCluster,
    kube: Kube,
    namespace: str,
    reconciler_ns: str,
    tmp_path: Path,
) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.write("app/harmless.yaml", HARMLESS)
    repo.write("app/crb.yaml", CLUSTER_ADMIN_BINDING)
    repo.commit("an app with a cluster-admin binding")
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(f"namespaces: [{namespace}]\n")
    common = [
        "--repo", str(repo.path), "--path", "app", "--app", "web", "--namespace", namespace,
        "--kubeconfig", str(cluster.kubeconfig), "--cache-dir", str(tmp_path / "cache"),
        "--reconciler-namespace", reconciler_ns, "--policy", str(policy_file),
    ]  # fmt: skip
    for verb in ("diff", "apply"):
        code = main([verb, *common])
        _out, err = capsys.readouterr()
        assert code == 2, err
        assert "crb.yaml:1: ClusterRoleBinding/pwned: cluster-scoped kind" in err
    assert kube.get_or_none(f"/api/v1/namespaces/{namespace}/configmaps/harmless") is None
    policy_file.write_text("namespace: [typo]\n")
    assert main(["diff", *common]) == 2
    assert "unknown policy key 'namespace'" in capsys.readouterr().err


# --- the install's RBAC in the app's namespace; PodSecurity labels (audit of issue 13) ------

RECONCILER_ROLE_REWRITE = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: gitops-nb-reconciler
rules: []
"""

RECONCILER_BINDING_REWRITE = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: gitops-nb-reconciler
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{kind: ServiceAccount, name: default}]
"""


def test_the_reconcilers_role_in_the_apps_namespace_is_refused(
    kube: Kube, namespace: str, reconciler_ns: str, tmp_path: Path
) -> None:
    """jobs/app/rbac.yaml installs Role and RoleBinding gitops-nb-reconciler in the app's own
    namespace; a commit that rewrites them would switch off records, Events and impersonation."""
    rbac = f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}"
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": "gitops-nb-reconciler"},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}],
    }
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "gitops-nb-reconciler"},
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Role",
            "name": role["metadata"]["name"],
        },
        "subjects": [
            {"kind": "ServiceAccount", "name": "gitops-nb-reconciler", "namespace": reconciler_ns}
        ],
    }
    kube.create(f"{rbac}/roles", role)
    kube.create(f"{rbac}/rolebindings", binding)
    paths = [f"{rbac}/roles/gitops-nb-reconciler", f"{rbac}/rolebindings/gitops-nb-reconciler"]
    before = {path: kube.get(path) for path in paths}
    ms = app_dir(
        tmp_path, {"role.yaml": RECONCILER_ROLE_REWRITE, "binding.yaml": RECONCILER_BINDING_REWRITE}
    )
    # Even a policy that lets the app hold any kind in its namespace.
    o = SyncOptions(
        app="web",
        namespace=namespace,
        policy=Policy(
            namespaces=(namespace,), allow_kinds=("*",), reconciler_namespace=reconciler_ns
        ),
    )
    msg = refused(kube, ms, o)
    assert f"role.yaml:1: Role/{namespace}/gitops-nb-reconciler:" in msg
    assert f"binding.yaml:1: RoleBinding/{namespace}/gitops-nb-reconciler:" in msg
    assert msg.count("holds the install's own rights") == 2 and "self-protection" in msg
    for path, was in before.items():
        now = kube.get(path)
        assert now["metadata"]["resourceVersion"] == was["metadata"]["resourceVersion"]
    # Diff refuses as well, before any request that could write.
    with pytest.raises(PolicyError):
        Engine(kube).diff(ms, o)


def namespace_doc(name: str, **modes: str) -> str:
    labels = "".join(f"\n    pod-security.kubernetes.io/{m}: {v}" for m, v in modes.items())
    return (
        f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n  labels:{labels or ' {}'}\n"
    )


@pytest.fixture
def app_namespace(kube: Kube) -> Iterator[str]:
    """A namespace set up like jobs/app/namespace.yaml: PodSecurity baseline enforced."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    labels = {
        "pod-security.kubernetes.io/enforce": "baseline",
        "pod-security.kubernetes.io/warn": "restricted",
    }
    kube.create(
        "/api/v1/namespaces",
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}},
    )
    yield name
    kube.delete(f"/api/v1/namespaces/{name}")


@pytest.mark.parametrize(
    ("modes", "needle"),
    [
        ({"enforce": "privileged"}, "label pod-security.kubernetes.io/enforce=privileged"),
        ({}, "no pod-security.kubernetes.io/enforce label (privileged)"),
        ({"enforce": "baseline", "warn": "privileged"}, "label pod-security.kubernetes.io/warn="),
    ],
    ids=["privileged", "no-label", "weak-warn"],
)
def test_a_namespace_relabelled_below_the_policy_is_refused(
    kube: Kube,
    namespace: str,
    reconciler_ns: str,
    app_namespace: str,
    tmp_path: Path,
    modes: dict[str, str],
    needle: str,
) -> None:
    """With the cluster-wide overlay the app may patch Namespaces: relabelling its own to
    privileged would let the next commit run a hostPath pod (node root)."""
    before = kube.get(f"/api/v1/namespaces/{app_namespace}")
    ms = app_dir(tmp_path, {"ns.yaml": namespace_doc(app_namespace, **modes)})
    o = SyncOptions(
        app="web",
        namespace=namespace,
        policy=Policy(
            namespaces=(namespace, app_namespace),
            pod_security="baseline",  # as the shipped configs set it
            reconciler_namespace=reconciler_ns,
        ),
    )
    msg = refused(kube, ms, o)
    assert f"ns.yaml:1: Namespace/{app_namespace}: {needle}" in msg
    assert "weaker than policy.podSecurity baseline" in msg
    after = kube.get(f"/api/v1/namespaces/{app_namespace}")
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    assert after["metadata"]["labels"] == before["metadata"]["labels"]


def test_a_namespace_at_the_policys_level_still_applies(
    kube: Kube, namespace: str, reconciler_ns: str, tmp_path: Path
) -> None:
    name = f"t-{uuid.uuid4().hex[:10]}"
    ms = app_dir(tmp_path, {"ns.yaml": namespace_doc(name, enforce="restricted", audit="baseline")})
    o = SyncOptions(
        app="web",
        namespace=namespace,
        policy=Policy(
            namespaces=(namespace, name),
            pod_security="baseline",
            reconciler_namespace=reconciler_ns,
        ),
    )
    try:
        changes = Engine(kube).apply(ms, o)
        assert not changes.failed, changes.failed
        labels = kube.get(f"/api/v1/namespaces/{name}")["metadata"]["labels"]
        assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
        assert labels["pod-security.kubernetes.io/audit"] == "baseline"
        # A stricter policy refuses the same commit (audit at baseline is below restricted).
        strict = SyncOptions(
            app="web",
            namespace=namespace,
            policy=Policy(
                namespaces=(namespace, name),
                pod_security="restricted",
                reconciler_namespace=reconciler_ns,
            ),
        )
        with pytest.raises(PolicyError, match="audit=baseline is weaker"):
            Engine(kube).diff(ms, strict)
    finally:
        if kube.get_or_none(f"/api/v1/namespaces/{name}") is not None:
            kube.delete(f"/api/v1/namespaces/{name}")
