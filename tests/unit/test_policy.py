"""The app policy and self-protection as pure functions (engine/policy.py, policyspec.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gitops_nb.config import load
from gitops_nb.engine.applyset import PART_OF, ApplySet
from gitops_nb.engine.options import SyncOptions
from gitops_nb.engine.ownership import decode_inventory, encode_inventory, other_applyset
from gitops_nb.engine.policy import kind_matches, violations_of
from gitops_nb.errors import ConfigError
from gitops_nb.model import ObjectRef
from gitops_nb.policyspec import DEFAULT_CLUSTER_KINDS, Policy

DEFAULT = Policy(reconciler_namespace="gitops-nb")


def rules(ref: ObjectRef, policy: Policy = DEFAULT, obj: dict[str, Any] | None = None) -> list[str]:
    return [v.rule for v in violations_of(ref, obj or {}, "app.yaml:3", policy)]


def namespace(**modes: str) -> dict[str, Any]:
    labels = {f"pod-security.kubernetes.io/{m}": level for m, level in modes.items()}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"labels": labels}}


def test_kinds_match_with_or_without_group_and_globs() -> None:
    dep = ObjectRef("apps/v1", "Deployment", "web", "d")
    assert kind_matches(dep, ["Deployment"])
    assert kind_matches(dep, ["Deployment.apps"])
    assert not kind_matches(dep, ["Deployment.extensions"])
    assert kind_matches(dep, ["Deploy*"])
    assert kind_matches(ObjectRef("v1", "Secret", "web", "s"), ["Secret"])


def test_default_policy_allows_app_namespaces_namespace_and_crd() -> None:
    assert rules(ObjectRef("apps/v1", "Deployment", "web", "d")) == []
    assert rules(ObjectRef("v1", "Namespace", "", "web"), obj=namespace(enforce="baseline")) == []
    # No PodSecurity minimum by default: an unlabelled Namespace (most repositories) applies.
    assert rules(ObjectRef("v1", "Namespace", "", "web"), obj=namespace()) == []
    crd = ObjectRef("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", "w.example.io")
    assert rules(crd) == []
    assert "Namespace" in DEFAULT_CLUSTER_KINDS


@pytest.mark.parametrize(
    ("ref", "needle"),
    [
        (ObjectRef("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "", "x"), "clusterKinds"),
        (
            ObjectRef("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", "", "x"),
            "clusterKinds",
        ),
        (ObjectRef("v1", "Pod", "kube-system", "p"), "system namespace kube-system"),
        (ObjectRef("v1", "Namespace", "", "kube-system"), "system namespace kube-system"),
        (ObjectRef("v1", "ConfigMap", "gitops-nb", "gitops-nb-config"), "self-protection"),
        (ObjectRef("v1", "Namespace", "", "gitops-nb"), "reconciler's own"),
        (
            ObjectRef("rbac.authorization.k8s.io/v1", "ClusterRole", "", "gitops-nb-reconciler"),
            "self-protection",
        ),
    ],
)
def test_default_policy_refuses(ref: ObjectRef, needle: str) -> None:
    assert any(needle in r for r in rules(ref)), rules(ref)


def test_self_protection_wins_over_any_policy() -> None:
    anything = Policy(
        namespaces=("*", "gitops-nb"),
        cluster_kinds=("*",),
        token_secrets=True,
        reconciler_namespace="gitops-nb",
    )
    assert rules(ObjectRef("v1", "Secret", "gitops-nb", "gitops-nb-git"), anything)
    assert rules(ObjectRef("coordination.k8s.io/v1", "Lease", "gitops-nb", "l"), anything)
    # A system namespace needs its exact name, never a glob.
    assert rules(ObjectRef("v1", "Pod", "kube-system", "p"), anything) != []
    named = Policy(namespaces=("kube-system",), reconciler_namespace="gitops-nb")
    assert rules(ObjectRef("v1", "Pod", "kube-system", "p"), named) == []


def test_namespaces_allow_and_deny_kinds_token_secrets() -> None:
    p = Policy(
        namespaces=("web", "web-*"),
        allow_kinds=("Deployment.apps", "ConfigMap", "Secret"),
        deny_kinds=("Secret",),
        reconciler_namespace="ops",
    )
    assert rules(ObjectRef("apps/v1", "Deployment", "web-eu", "d"), p) == []
    assert rules(ObjectRef("apps/v1", "Deployment", "db", "d"), p) == [
        "namespace db is not in policy.namespaces ['web', 'web-*']"
    ]
    assert rules(ObjectRef("v1", "Service", "web", "s"), p)[0].startswith(
        "kind Service is not in policy.allowKinds"
    )
    assert rules(ObjectRef("v1", "Secret", "web", "s"), p)[0].startswith(
        "kind Secret is in policy.denyKinds"
    )
    token = {"type": "kubernetes.io/service-account-token"}
    assert "policy.tokenSecrets" in rules(ObjectRef("v1", "Secret", "web", "t"), DEFAULT, token)[0]


def test_violation_names_file_line_object_and_rule() -> None:
    [v] = violations_of(ObjectRef("v1", "Pod", "kube-system", "p"), {}, "pods.yaml:7", DEFAULT)
    assert str(v).startswith("pods.yaml:7: Pod/kube-system/p: system namespace kube-system")


def test_config_policy_key_and_errors(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text(
        "app: web\nrepo: r\nnamespace: web\nserviceAccountName: web-deployer\nadopt: true\n"
        "reconcilerNamespace: ops\n"
        "policy:\n  namespaces: [web]\n  clusterKinds: [Namespace]\n  denyKinds: [Secret]\n"
    )
    cfg = load(f)
    assert cfg.policy.namespaces == ("web",) and cfg.policy.cluster_kinds == ("Namespace",)
    opts = SyncOptions.from_config(cfg, "c0ffee")
    assert opts.policy.reconciler_namespace == "ops"
    assert opts.adopt and opts.app_user == "system:serviceaccount:web:web-deployer"
    f.write_text("app: web\nrepo: r\npolicy:\n  namespace: [web]\n")
    with pytest.raises(ConfigError, match="unknown policy key 'namespace'"):
        load(f)
    f.write_text("app: web\nrepo: r\npolicy:\n  namespaces: web-*\n  tokenSecrets: 1\n")
    with pytest.raises(ConfigError, match=r"policy.tokenSecrets must be true or false"):
        load(f)


def test_other_applyset_and_inventory_round_trip() -> None:
    mine = ApplySet("a", "ns")
    theirs = ApplySet("b", "ns")
    assert other_applyset(theirs.label({"metadata": {}}), mine) == theirs.id
    assert other_applyset(mine.label({"metadata": {}}), mine) is None
    assert other_applyset({"metadata": {"labels": {"x": "y"}}}, mine) is None
    assert PART_OF in theirs.label({})["metadata"]["labels"]
    keys = {("", "ConfigMap", "ns", "a|b"), ("apps", "Deployment", "ns", "d")}
    blob = encode_inventory(keys)
    assert decode_inventory({"binaryData": {"inventory.json.gz": blob}}) == keys
    assert decode_inventory({"binaryData": {"inventory.json.gz": "not base64!"}}) == set()
    assert decode_inventory(None) == set()


def test_a_new_policy_or_identity_re_judges_the_set_without_the_no_render_shortcut() -> None:
    from dataclasses import replace

    from gitops_nb.config import AppConfig

    cfg = AppConfig(app="web", repo="r", namespace="web")
    key = SyncOptions.from_config(cfg, "c0ffee").source_key
    assert SyncOptions.from_config(cfg, "c0ffee").source_key == key
    for changed in (
        replace(cfg, policy=Policy(namespaces=("web",))),
        replace(cfg, service_account_name="deployer"),
        replace(cfg, adopt=True),
        replace(cfg, reconciler_namespace="ops"),
    ):
        assert SyncOptions.from_config(changed, "c0ffee").source_key != key


@pytest.mark.parametrize(
    "ref",
    [
        ObjectRef("v1", "ConfigMap", "web", "gitops-nb.web"),
        ObjectRef("v1", "ConfigMap", "web", "gitops-nb-run-web-20261129-abcdef12"),
        ObjectRef("coordination.k8s.io/v1", "Lease", "web", "gitops-nb.web"),
        ObjectRef("v1", "Secret", "web", "gitops-nb-fingerprint-key"),
    ],
)
def test_the_reconcilers_books_are_never_written_from_git(ref: ObjectRef) -> None:
    anything = Policy(allow_kinds=("*",), reconciler_namespace="ops")
    [rule] = rules(ref, anything)
    assert "reserved for the reconciler's bookkeeping" in rule
    assert rules(ObjectRef("v1", "ConfigMap", "web", "gitops-nb-settings"), anything) == []


@pytest.mark.parametrize("kind", ["Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"])
@pytest.mark.parametrize("name", ["gitops-nb-reconciler", "gitops-nb-deployer"])
def test_the_installs_rbac_is_protected_in_the_apps_own_namespace(kind: str, name: str) -> None:
    """jobs/app/rbac.yaml puts the reconciler's Role and RoleBinding in the app's namespace."""
    cluster = kind.startswith("Cluster")
    ref = ObjectRef("rbac.authorization.k8s.io/v1", kind, "" if cluster else "example", name)
    anything = Policy(
        namespaces=("example",), cluster_kinds=("*",), reconciler_namespace="gitops-nb"
    )
    [rule] = rules(ref, anything)
    assert f"{kind} {name} holds the install's own rights" in rule and "self-protection" in rule
    other = ObjectRef("rbac.authorization.k8s.io/v1", kind, ref.namespace, "web-reader")
    assert rules(other, anything) == []


NS = ObjectRef("v1", "Namespace", "", "web")


@pytest.mark.parametrize(
    ("policy", "obj", "needle"),
    [
        ("baseline", namespace(enforce="privileged"), "enforce=privileged is weaker"),
        ("baseline", namespace(), "no pod-security.kubernetes.io/enforce label (privileged)"),
        ("baseline", {"metadata": {}}, "no pod-security.kubernetes.io/enforce label"),
        ("baseline", namespace(enforce="baseline", audit="privileged"), "audit=privileged"),
        ("baseline", namespace(enforce="restricted", warn="privileged"), "warn=privileged"),
        ("restricted", namespace(enforce="baseline"), "weaker than policy.podSecurity restricted"),
        ("baseline", namespace(enforce="Privileged"), "is not a PodSecurity level"),
    ],
)
def test_a_namespace_may_not_weaken_pod_security(
    policy: str, obj: dict[str, Any], needle: str
) -> None:
    found = rules(NS, Policy(pod_security=policy, reconciler_namespace="ops"), obj)
    assert any(needle in r for r in found), found


@pytest.mark.parametrize(
    ("policy", "obj"),
    [
        ("baseline", namespace(enforce="baseline")),
        ("baseline", namespace(enforce="restricted", audit="restricted", warn="baseline")),
        ("restricted", namespace(enforce="restricted")),
        ("privileged", namespace()),
        ("privileged", namespace(enforce="privileged")),
    ],
)
def test_a_namespace_at_or_above_the_floor_is_allowed(policy: str, obj: dict[str, Any]) -> None:
    assert rules(NS, Policy(pod_security=policy, reconciler_namespace="ops"), obj) == []


def test_pod_security_only_judges_namespaces() -> None:
    pod = ObjectRef("v1", "Pod", "web", "p")
    assert rules(pod, Policy(pod_security="restricted", reconciler_namespace="ops")) == []


def test_pod_security_config_key(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("app: web\nrepo: r\n")
    assert load(f).policy.pod_security == "privileged"  # no minimum unless configured
    f.write_text("app: web\nrepo: r\npolicy:\n  podSecurity: restricted\n")
    cfg = load(f)
    assert cfg.policy.pod_security == "restricted"
    assert cfg.policy.to_dict()["podSecurity"] == "restricted"
    f.write_text("app: web\nrepo: r\npolicy:\n  podSecurity: none\n")
    with pytest.raises(ConfigError, match=r"policy\.podSecurity must be one of"):
        load(f)
