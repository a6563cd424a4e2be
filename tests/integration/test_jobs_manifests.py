"""The in-cluster install (``jobs/``): hardened, least privilege, and the API server accepts it.

Rendered with Kustomize like ``kubectl apply -k jobs/``; every object is server-side dry-run
applied. The RBAC is also exercised for real: the reconciler's ServiceAccount, with a token
of its own, may write in its namespace and nowhere else, and cannot mint wider rights.
"""

from __future__ import annotations

import copy
import re
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops_nb.config import load
from gitops_nb.errors import ForbiddenError, NotFoundError
from gitops_nb.kube.client import Kube, service_account_user
from gitops_nb.kube.discovery import Discovery
from gitops_nb.model import Manifest
from gitops_nb.source.render import render
from tests.integration.jobskit import INSTALL_NS, PLACEHOLDER, one

from .helpers import REPO, SA, path_of

APP_NS = "example"
DEPLOYER = "deployer"
FORBIDDEN_VERBS = {"escalate", "bind", "impersonate", "*"}
# Shapes of real credentials that must never sit in the template, comments included.
CREDENTIAL_SHAPES = re.compile(
    r"BEGIN [A-Z ]*PRIVATE KEY|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_|glpat-|"
    r"(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp\d+) AAAA"
)
AppRule = tuple[str, str, frozenset[str]]  # (apiGroup, resource, verbs)


@pytest.fixture(scope="module")
def default_install() -> list[Manifest]:
    # Rooted at jobs/: the repository root holds .venv, whose symlinks leave the tree.
    return render(REPO / "jobs")


@pytest.fixture(scope="module")
def app_install() -> list[Manifest]:
    return render(REPO / "jobs", "app")


@pytest.fixture(scope="module")
def cluster_wide() -> list[Manifest]:
    return render(REPO / "jobs", "overlays/cluster-wide")


def kinds(ms: list[Manifest]) -> set[tuple[str, str]]:
    return {(m.obj["kind"], m.obj["metadata"]["name"]) for m in ms}


def rules(ms: list[Manifest], kind: str) -> list[dict[str, Any]]:
    return [r for m in ms if m.obj["kind"] == kind for r in m.obj.get("rules", [])]


def flat(rs: list[dict[str, Any]]) -> set[AppRule]:
    return {
        (g, res, frozenset(r["verbs"]))
        for r in rs
        for g in r.get("apiGroups", [])
        for res in r.get("resources", [])
    }


def dry_run_all(kube: Kube, ms: list[Manifest]) -> None:
    disco = Discovery(kube)
    for m in ms:
        out = kube.apply(path_of(disco, m.obj), m.obj, field_manager="test", dry_run=True)
        assert (out["kind"], out["metadata"]["name"]) == (m.obj["kind"], m.obj["metadata"]["name"])


# --- the rendered default install ---------------------------------------------------------


def test_default_install_renders_the_expected_objects_in_its_namespace(
    default_install: list[Manifest],
) -> None:
    assert kinds(default_install) == {
        ("Namespace", INSTALL_NS),
        ("ServiceAccount", SA),
        ("ConfigMap", "gitops-nb-config"),
        ("Secret", "gitops-nb-git"),
        ("CronJob", SA),
    }
    for m in default_install:
        if m.obj["kind"] != "Namespace":
            assert m.obj["metadata"]["namespace"] == INSTALL_NS, m.ref
    # The reconciler's namespace admits only restricted pods.
    labels = one(default_install, "Namespace")["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


def test_app_install_is_its_own_namespace_with_its_own_identity(
    app_install: list[Manifest],
) -> None:
    assert kinds(app_install) == {
        ("Namespace", APP_NS),
        ("ServiceAccount", DEPLOYER),
        ("RoleBinding", "deployer-edit"),
        ("Role", SA),
        ("RoleBinding", SA),
    }
    labels = one(app_install, "Namespace")["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "baseline"
    assert labels["pod-security.kubernetes.io/warn"] == "restricted"
    bindings = {
        m.obj["metadata"]["name"]: m.obj for m in app_install if m.obj["kind"] == "RoleBinding"
    }
    assert bindings["deployer-edit"]["roleRef"]["name"] == "edit"
    assert bindings["deployer-edit"]["subjects"] == [
        {"kind": "ServiceAccount", "name": DEPLOYER, "namespace": APP_NS}
    ]
    assert bindings[SA]["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": SA,
    }
    assert bindings[SA]["subjects"] == [
        {"kind": "ServiceAccount", "name": SA, "namespace": INSTALL_NS}
    ]


def test_cronjob_runs_one_bounded_hardened_run_at_a_time(default_install: list[Manifest]) -> None:
    cj = one(default_install, "CronJob")["spec"]
    assert cj["schedule"] == "*/5 * * * *"
    assert cj["concurrencyPolicy"] == "Forbid"
    assert cj["startingDeadlineSeconds"] == 120
    assert (cj["successfulJobsHistoryLimit"], cj["failedJobsHistoryLimit"]) == (3, 3)
    job = cj["jobTemplate"]["spec"]
    assert job["backoffLimit"] == 1
    fail_now = [r for r in job["podFailurePolicy"]["rules"] if r["action"] == "FailJob"]
    # drift, permanent, Lease held, commit refused, not healthy: a retry cannot change them
    assert fail_now[0]["onExitCodes"]["values"] == [1, 2, 4, 6, 7]
    assert job["activeDeadlineSeconds"] == 600
    assert job["ttlSecondsAfterFinished"] > job["activeDeadlineSeconds"]
    pod = job["template"]["spec"]
    assert pod["serviceAccountName"] == SA
    assert pod["automountServiceAccountToken"] is True
    assert pod["restartPolicy"] == "Never"
    assert pod["terminationGracePeriodSeconds"] == 30
    psc = pod["securityContext"]
    assert psc["runAsNonRoot"] is True
    assert (psc["runAsUser"], psc["fsGroup"]) == (10001, 10001)
    assert psc["seccompProfile"] == {"type": "RuntimeDefault"}
    (c,) = pod["containers"]
    assert c["image"] == "ghcr.io/gitops-nb/gitops-nb:0.1.0"
    assert c["args"] == ["reconcile", "--config", "/etc/gitops-nb/config.yaml"]
    assert c["resources"] == {
        "requests": {"cpu": "100m", "memory": "256Mi"},
        "limits": {"memory": "512Mi"},
    }
    sc = c["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    env = {e["name"]: e["value"] for e in c["env"]}
    assert env == {
        "GITOPS_NB_CACHE_DIR": "/work/cache",
        "HOME": "/work",
        "GITOPS_NB_GIT_TOKEN_FILE": "/etc/gitops-nb/git/token",
    }


def test_cronjob_mounts_config_credentials_and_writable_emptydirs(
    default_install: list[Manifest],
) -> None:
    pod = one(default_install, "CronJob")["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in pod["containers"][0]["volumeMounts"]}
    assert set(mounts) == {"/work", "/tmp", "/etc/gitops-nb", "/etc/gitops-nb/git"}
    work, tmp = volumes[mounts["/work"]], volumes[mounts["/tmp"]]
    assert work["emptyDir"]["sizeLimit"] == "1Gi"
    assert "emptyDir" in tmp
    config = volumes[mounts["/etc/gitops-nb"]]["configMap"]
    assert config["name"] == "gitops-nb-config"
    assert [i["path"] for i in config["items"]] == ["config.yaml"]
    secret = volumes[mounts["/etc/gitops-nb/git"]]["secret"]
    assert secret == {"secretName": "gitops-nb-git", "optional": True, "defaultMode": 0o400}
    cm = one(default_install, "ConfigMap")
    assert set(cm["data"]) == {"config.yaml"}
    key_files = {"token", "ssh-privatekey", "known_hosts"}
    assert set(one(default_install, "Secret")["stringData"]) == key_files


def test_config_map_is_a_valid_app_config_for_its_own_namespace(
    default_install: list[Manifest], tmp_path: Path
) -> None:
    text = one(default_install, "ConfigMap")["data"]["config.yaml"]
    keys = set(yaml.safe_load(text))
    assert keys == {
        "app",
        "repo",
        "ref",
        "path",
        "namespace",
        "serviceAccountName",
        "policy",
        "adopt",
        "mode",
        "prune",
        "maxPruneRatio",
        "ignore",
        "historyRetention",
        "interval",
        "leaseDurationSeconds",
        "wait",
        "waitTimeout",
    }
    (tmp_path / "config.yaml").write_text(text)
    cfg = load(tmp_path / "config.yaml")
    # The app lives in its own namespace, as its own ServiceAccount, and nowhere else.
    assert cfg.namespace == APP_NS != INSTALL_NS
    assert cfg.service_account_name == DEPLOYER
    assert cfg.policy.namespaces == (APP_NS,) and cfg.policy.cluster_kinds == ()
    # Namespace objects may not drop below what the app's namespace enforces (app/).
    assert cfg.policy.pod_security == "baseline"


# --- least privilege -----------------------------------------------------------------------


def test_reconciler_holds_no_rights_but_bookkeeping_and_impersonating_the_app(
    default_install: list[Manifest], app_install: list[Manifest]
) -> None:
    assert not {"Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"} & {
        m.obj["kind"] for m in default_install
    }
    assert not {"ClusterRole", "ClusterRoleBinding"} & {m.obj["kind"] for m in app_install}
    role = rules(app_install, "Role")
    assert role
    for r in role:
        for field in ("apiGroups", "resources", "verbs"):
            assert "*" not in r[field], r
        assert not {"escalate", "bind"} & set(r["verbs"]), r
        assert "nonResourceURLs" not in r
        if "impersonate" in r["verbs"]:  # only the app's own ServiceAccount, by name
            assert r == {
                "apiGroups": [""],
                "resources": ["serviceaccounts"],
                "verbs": ["impersonate"],
                "resourceNames": [DEPLOYER],
            }
    granted = flat(role)
    leases = frozenset({"get", "list", "create", "update"})  # list: a fleet's shared LIST
    assert ("coordination.k8s.io", "leases", leases) in granted
    assert ("", "events", frozenset({"create", "patch"})) in granted
    writes = {"get", "list", "watch", "create", "patch", "delete"}
    assert ("", "configmaps", frozenset(writes | {"update"})) in granted
    # No app kind: every app object is written as the app.
    app_resources = {"deployments", "services", "roles", "rolebindings", "pods", "namespaces"}
    assert not any(res in app_resources for _, res, _ in granted)


def test_every_rbac_rule_is_commented() -> None:
    for f in ("jobs/app/rbac.yaml", "jobs/overlays/cluster-wide/clusterrole.yaml"):
        lines = (REPO / f).read_text().splitlines()
        for i, line in enumerate(lines):
            if line.strip().startswith("- apiGroups:"):
                assert lines[i - 1].strip().startswith("#"), f"{f}:{i + 1}: rule without a why"


def test_secret_template_holds_placeholders_only(default_install: list[Manifest]) -> None:
    secret = one(default_install, "Secret")
    assert "data" not in secret
    for key, value in secret["stringData"].items():
        assert PLACEHOLDER.match(value), f"Secret key {key} is not a placeholder"
    text = (REPO / "jobs" / "git-credentials.yaml").read_text()
    assert not CREDENTIAL_SHAPES.search(text)


def test_cluster_wide_overlay_adds_cluster_rights_to_the_app_not_the_reconciler(
    cluster_wide: list[Manifest],
) -> None:
    name = "gitops-nb-deployer"
    assert kinds(cluster_wide) == {("ClusterRole", name), ("ClusterRoleBinding", name)}
    binding = one(cluster_wide, "ClusterRoleBinding")
    assert binding["roleRef"]["kind"] == "ClusterRole"
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": DEPLOYER, "namespace": APP_NS}
    ]
    cluster = rules(cluster_wide, "ClusterRole")
    for r in cluster:
        assert not {"*"} & (set(r["apiGroups"]) | set(r["resources"])), r
        assert not FORBIDDEN_VERBS & set(r["verbs"]), r
    granted = {(g, res) for g, res, _ in flat(cluster)}
    assert {("", "namespaces"), ("apiextensions.k8s.io", "customresourcedefinitions")} <= granted
    assert ("rbac.authorization.k8s.io", "clusterroles") in granted
    # A cluster-wide Lease grant could hijack leader election.
    assert ("coordination.k8s.io", "leases") not in granted


# --- the API server's verdict --------------------------------------------------------------


def test_every_object_passes_server_side_dry_run(
    kube: Kube,
    namespace: str,
    app_namespace: str,
    relocated: list[Manifest],
    relocated_app: list[Manifest],
    cluster_wide: list[Manifest],
) -> None:
    assert {m.obj["metadata"].get("namespace") for m in relocated} == {namespace, None}
    assert {m.obj["metadata"].get("namespace") for m in relocated_app} == {app_namespace, None}
    dry_run_all(kube, relocated)
    dry_run_all(kube, relocated_app)
    dry_run_all(kube, cluster_wide)
    disco = Discovery(kube)
    # Dry-run wrote nothing.
    assert kube.get_or_none(path_of(disco, one(relocated, "CronJob"))) is None
    assert kube.get_or_none(path_of(disco, one(cluster_wide, "ClusterRole"))) is None


def _as_service_account(kube: Kube, namespace: str) -> Kube:
    """A client holding a fresh token of the reconciler's ServiceAccount (never printed)."""
    req = {
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenRequest",
        "spec": {"expirationSeconds": 600},
    }
    token = kube.create(f"/api/v1/namespaces/{namespace}/serviceaccounts/{SA}/token", req)
    cfg = copy.deepcopy(kube.configuration)
    cfg.cert_file = cfg.key_file = None
    cfg.api_key = {"authorization": token["status"]["token"]}
    cfg.api_key_prefix = {"authorization": "Bearer"}
    return Kube(cfg)


def _wait_default_service_account(kube: Kube, ns: str, timeout: float = 90.0) -> None:
    """The ServiceAccount controller creates ``default`` shortly after the namespace."""
    deadline = time.monotonic() + timeout
    while kube.get_or_none(f"/api/v1/namespaces/{ns}/serviceaccounts/default") is None:
        assert time.monotonic() < deadline, f"no default ServiceAccount in {ns}"
        time.sleep(0.2)


def _eventually(check: Callable[[], object], timeout: float = 30.0) -> None:
    """The RBAC authorizer sees new Roles through an informer: allow it a moment."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            check()
            return
        except ForbiddenError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.fixture
def reconciler(
    kube: Kube, namespace: str, relocated: list[Manifest], relocated_app: list[Manifest]
) -> Iterator[Kube]:
    """The install applied for real: the reconciler in ``namespace``, the app's namespace
    and rights in ``app_namespace``; a client acting as the reconciler's ServiceAccount."""
    disco = Discovery(kube)
    for m in [*relocated, *relocated_app]:
        if m.obj["kind"] in ("ServiceAccount", "Role", "RoleBinding", "Namespace"):
            if m.obj["kind"] == "Namespace" and m.obj["metadata"]["name"] == INSTALL_NS:
                continue
            kube.apply(path_of(disco, m.obj), m.obj, field_manager="test")
    sa = _as_service_account(kube, namespace)
    yield sa
    sa.close()  # the namespace fixtures delete what was applied


def _deployment(namespace: str) -> dict[str, Any]:
    labels = {"app": "web"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
            },
        },
    }


def _role(namespace: str, name: str, rule: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": name, "namespace": namespace},
        "rules": [rule],
    }


def _dry_apply(sa: Kube, path: str, obj: dict[str, Any]) -> Any:
    return sa.apply(path, obj, field_manager="gitops-nb", dry_run=True)


def test_reconciler_keeps_its_books_and_writes_apps_only_as_the_app(
    reconciler: Kube, namespace: str, app_namespace: str
) -> None:
    sa, ns = reconciler, app_namespace
    history = f"/api/v1/namespaces/{ns}/configmaps"
    record = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "run-1"}}
    _eventually(lambda: sa.create(history, record))
    # Sync-run records: created, listed, trimmed.
    assert "run-1" in [c["metadata"]["name"] for c in sa.list(history)]
    sa.delete(f"{history}/run-1")
    # One run at a time: the Lease is created, then taken and renewed with update.
    leases = f"/apis/coordination.k8s.io/v1/namespaces/{ns}/leases"
    lease_obj = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "spec": {}}
    lease = sa.create(leases, {**lease_obj, "metadata": {"name": "gitops-nb.example"}})
    # A fleet run lists the namespace's Leases once for all its apps.
    assert "gitops-nb.example" in [x["metadata"]["name"] for x in sa.list(leases)]
    sa.replace(f"{leases}/gitops-nb.example", lease)
    with pytest.raises(ForbiddenError):  # released, never deleted
        sa.delete(f"{leases}/gitops-nb.example")
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "gitops-nb.example.1"},
        "involvedObject": {"kind": "ConfigMap", "name": "gitops-nb.example", "namespace": ns},
        "reason": "DriftDetected",
        "message": "test",
    }
    sa.create(f"/api/v1/namespaces/{ns}/events", event)
    # No app rights of its own ...
    deploy = f"/apis/apps/v1/namespaces/{ns}/deployments/web"
    with pytest.raises(ForbiddenError):
        _dry_apply(sa, deploy, _deployment(ns))
    # ... but as the app's ServiceAccount, the app's rights.
    as_app = sa.impersonating(service_account_user(ns, DEPLOYER))
    try:
        _eventually(lambda: _dry_apply(as_app, deploy, _deployment(ns)))
        with pytest.raises(NotFoundError):  # not Forbidden: prune may delete it
            as_app.delete(deploy, dry_run=True)
    finally:
        as_app.close()
    # Impersonating anyone else is refused; its own namespace holds nothing for it.
    for user in (
        service_account_user(ns, "default"),
        service_account_user("kube-system", "generic-garbage-collector"),
    ):
        other = sa.impersonating(user)
        with pytest.raises(ForbiddenError):
            other.list(f"/api/v1/namespaces/{ns}/configmaps")
        other.close()
    with pytest.raises(ForbiddenError):
        sa.list(f"/api/v1/namespaces/{namespace}/secrets")
    with pytest.raises(ForbiddenError):
        sa.create(f"/api/v1/namespaces/{namespace}/configmaps", record)


PRIVILEGED = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "root"},
    "spec": {
        "hostPID": True,
        "hostNetwork": True,
        "containers": [{"name": "sh", "image": "busybox", "securityContext": {"privileged": True}}],
        "volumes": [{"name": "host", "hostPath": {"path": "/"}}],
    },
}


def test_the_app_cannot_leave_its_namespace_mint_rights_or_run_privileged(
    reconciler: Kube, kube: Kube, app_namespace: str
) -> None:
    ns = app_namespace
    app = reconciler.impersonating(service_account_user(ns, DEPLOYER))
    try:
        cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": ns}}
        _eventually(lambda: _dry_apply(app, f"/api/v1/namespaces/{ns}/configmaps/c", cm))
        rbac = f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}"
        more = {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]}
        with pytest.raises(ForbiddenError):  # edit holds no RBAC
            _dry_apply(app, f"{rbac}/roles/exec", _role(ns, "exec", more))
        binding = {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "root", "namespace": ns},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "cluster-admin",
            },
            "subjects": [{"kind": "ServiceAccount", "name": DEPLOYER, "namespace": ns}],
        }
        with pytest.raises(ForbiddenError):
            _dry_apply(app, f"{rbac}/rolebindings/root", binding)
        with pytest.raises(ForbiddenError):
            _dry_apply(
                app, "/apis/apps/v1/namespaces/default/deployments/web", _deployment("default")
            )
        with pytest.raises(ForbiddenError):
            app.list("/api/v1/namespaces/kube-system/secrets")
        with pytest.raises(ForbiddenError):
            ns_obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "elsewhere"}}
            _dry_apply(app, "/api/v1/namespaces/elsewhere", ns_obj)
        # PodSecurity baseline in the app's namespace: no privileged pod, whoever asks.
        pod = {**PRIVILEGED, "metadata": {"name": "root", "namespace": ns}}
        _wait_default_service_account(kube, ns)  # else admission refuses for that
        with pytest.raises(ForbiddenError, match="PodSecurity"):
            _dry_apply(app, f"/api/v1/namespaces/{ns}/pods/root", pod)
    finally:
        app.close()


def test_verify_keys_component_mounts_the_keys_and_sets_verify(tmp_path: Path) -> None:
    """components/verify-keys: the public keys mounted read-only, ``verify:`` naming them,
    placeholders only in the template; with the default install it still renders."""
    jobs = tmp_path / "jobs"
    shutil.copytree(REPO / "jobs", jobs)
    kustomization = jobs / "kustomization.yaml"
    kustomization.write_text(
        kustomization.read_text()
        + "components:\n  - components/postgres-records\n  - components/verify-keys\n"
    )
    ms = render(jobs)
    pod = one(ms, "CronJob")["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    mounts = {m["name"]: m for m in pod["containers"][0]["volumeMounts"]}
    assert mounts["verify-keys"] == {
        "name": "verify-keys",
        "mountPath": "/etc/gitops-nb/keys",
        "readOnly": True,
    }
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["verify-keys"]["configMap"]["name"] == "gitops-nb-verify-keys"
    keys = next(m.obj for m in ms if m.obj["metadata"]["name"] == "gitops-nb-verify-keys")
    assert keys["kind"] == "ConfigMap" and keys["metadata"]["namespace"] == INSTALL_NS
    assert all(PLACEHOLDER.match(v) for v in keys["data"].values())
    text = (jobs / "components" / "verify-keys" / "verify-keys.yaml").read_text()
    assert not CREDENTIAL_SHAPES.search(text)
    cfg = load(
        None, {k: str(v) for k, v in env.items()} | {"GITOPS_NB_APP": "x", "GITOPS_NB_REPO": "/r"}
    )
    # every key verify names is a file of the mounted ConfigMap, and nothing else
    assert sorted(cfg.verify.keys) == sorted(f"/etc/gitops-nb/keys/{k}" for k in keys["data"])
    assert cfg.verify.enabled and cfg.records_store == "postgres"  # components compose


def test_config_template_shows_verify_commented() -> None:
    text = (REPO / "jobs" / "config.yaml").read_text()
    assert "# verify:\n    #   keys: [/etc/gitops-nb/keys/" in text
