"""Ignore rules: parsing, path patterns, selectors, defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_nb import config
from gitops_nb.errors import ConfigError
from gitops_nb.ignore import DEFAULT, IgnoreRule, IgnoreRules, segments
from gitops_nb.model import ObjectRef

DEP = ObjectRef("apps/v1", "Deployment", "prod", "web")
SVC = ObjectRef("v1", "Service", "prod", "web")


def test_segments_of_printed_paths() -> None:
    assert segments('metadata.labels["app.kubernetes.io/name"]') == (
        "metadata",
        "labels",
        "app.kubernetes.io/name",
    )
    assert segments("spec.containers[name=web].ports[containerPort=80,protocol=TCP]") == (
        "spec",
        "containers",
        "name=web",
        "ports",
        "containerPort=80,protocol=TCP",
    )
    assert segments('spec.finalizers[="a/b"]') == ("spec", "finalizers", '="a/b"')
    assert segments("rules[0].verbs") == ("rules", "0", "verbs")


def test_parse_and_print_round_trip() -> None:
    rule = IgnoreRule.parse(" path=metadata.labels.team ; kind=Deploy* ;manager=kubectl-*")
    assert rule == IgnoreRule(manager="kubectl-*", path="metadata.labels.team", kind="Deploy*")
    assert IgnoreRule.parse(str(rule)) == rule


@pytest.mark.parametrize("text", ["", "path", "colour=red", "path=", "path=a[b"])
def test_invalid_rules_say_what_is_expected(text: str) -> None:
    with pytest.raises(ValueError, match=r"ignore rule|field path"):
        IgnoreRule.parse(text)


def test_path_star_matches_one_key_and_a_rule_covers_what_is_below() -> None:
    rule = IgnoreRule.parse("path=spec.template.spec.containers[*].env")
    assert rule.matches(DEP, "spec.template.spec.containers[name=web].env[name=A]", None)
    assert rule.matches(DEP, "spec.template.spec.containers[name=web].env", None)
    assert not rule.matches(DEP, "spec.template.spec.containers[name=web].image", None)
    assert not rule.matches(DEP, "spec.template.spec.containers", None)
    quoted = IgnoreRule.parse("path=metadata.annotations.*")
    assert quoted.matches(DEP, 'metadata.annotations["example.com/x"]', None)
    assert not quoted.matches(DEP, "metadata.labels.x", None)


def test_selectors_must_all_match() -> None:
    rule = IgnoreRule.parse("manager=kubectl-*;kind=Deployment;namespace=prod;name=w*")
    assert rule.matches(DEP, "spec.replicas", "kubectl-scale")
    assert not rule.matches(SVC, "spec.replicas", "kubectl-scale")
    assert not rule.matches(DEP, "spec.replicas", "helm")
    assert not rule.matches(DEP, "spec.replicas", None)  # unknown owner: a manager rule can't tell
    assert not rule.matches(ObjectRef("apps/v1", "Deployment", "dev", "web"), "x", "kubectl-x")


def test_defaults_cover_system_managers_and_restarted_at() -> None:
    assert DEFAULT.is_system("kube-controller-manager")
    assert not DEFAULT.is_system("kubectl-edit")
    restarted = 'spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]'
    assert DEFAULT.matches(DEP, restarted, "kubectl-rollout")
    assert not DEFAULT.matches(DEP, "spec.template.metadata.annotations.other", "kubectl-rollout")
    assert IgnoreRules.of(defaults=False).rules == ()
    assert IgnoreRules.of(["manager=x"]).texts[-1] == "manager=x"
    assert IgnoreRules.of(["manager=x"]).digest != DEFAULT.digest


def test_config_takes_rules_as_strings_or_mappings(tmp_path: Path) -> None:
    f = tmp_path / "app.yaml"
    f.write_text(
        "app: web\nrepo: /r\nignoreDefaults: false\nignore:\n"
        "  - manager=hpa-*\n  - {path: metadata.labels.team, kind: Deployment}\n"
    )
    cfg = config.load(f)
    assert cfg.ignore == ("manager=hpa-*", "path=metadata.labels.team;kind=Deployment")
    assert cfg.ignore_defaults is False
    env = config.load(
        None,
        {
            "GITOPS_NB_APP": "web",
            "GITOPS_NB_REPO": "/r",
            "GITOPS_NB_IGNORE": "manager=a\nmanager=b",
        },
    )
    assert env.ignore == ("manager=a", "manager=b")
    f.write_text("app: web\nrepo: /r\nignore: [colour=red]\n")
    with pytest.raises(ConfigError, match="ignore: invalid ignore rule"):
        config.load(f)


def test_readme_documents_every_default_rule() -> None:
    """The README's "Shipped defaults" table lists exactly the rules the code ships."""
    from pathlib import Path

    from gitops_nb.ignore import DEFAULT_RULES

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    table = readme[readme.index("| default rule | why |") :].split("\n\n", 1)[0]
    documented = {line.split("`")[1] for line in table.splitlines()[2:]}
    assert documented == {rule for rule, _why in DEFAULT_RULES}
