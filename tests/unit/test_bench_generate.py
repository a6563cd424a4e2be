"""The benchmark's object generator and its output parsers (benchmarks/generate.py, measure.py)."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest
import yaml

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


def _load(name: str) -> ModuleType:
    # benchmarks/ is a script directory, not a package: load the files by path.
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while decorating
    spec.loader.exec_module(module)
    return module


gen = _load("generate")
measure = _load("measure")


def test_generate_counts_kinds_and_namespaces() -> None:
    objs = gen.generate(200, "bench-g")
    assert len(objs) == 200
    kinds = Counter(o.kind for o in objs)
    assert kinds["Namespace"] == 10
    assert set(kinds) == {"Namespace", *gen.KINDS}
    assert max(kinds[k] for k in gen.KINDS) - min(kinds[k] for k in gen.KINDS) <= 1
    assert {o.namespace for o in objs if o.kind != "Namespace"} == set(
        gen.namespace_names("bench-g")
    )
    refs = [(o.kind, o.namespace, o.name) for o in objs]
    assert len(set(refs)) == len(refs)


def test_generate_is_deterministic_and_copies_differ_only_in_namespace() -> None:
    a, b = gen.generate(120, "bench-g", seed=3), gen.generate(120, "bench-g", seed=3)
    assert [o.body for o in a] == [o.body for o in b]
    assert [o.body for o in gen.generate(120, "bench-g", seed=4)] != [o.body for o in a]
    k = gen.generate(120, "bench-k", seed=3)
    as_k = yaml.safe_dump_all([o.body for o in a]).replace("bench-g-", "bench-k-")
    assert as_k == yaml.safe_dump_all([o.body for o in k])


def test_generate_rejects_too_few_objects() -> None:
    with pytest.raises(ValueError, match="namespaces"):
        gen.generate(10, "bench-g")


def test_rolebindings_reference_role_and_serviceaccount_of_their_namespace() -> None:
    objs = gen.generate(300, "bench-g")
    by = {(o.kind, o.namespace, o.name) for o in objs}
    for o in objs:
        if o.kind == "RoleBinding":
            assert ("Role", o.namespace, o.body["roleRef"]["name"]) in by
            subject = o.body["subjects"][0]
            assert ("ServiceAccount", subject["namespace"], subject["name"]) in by


def test_write_tree_one_file_per_kind_per_namespace(tmp_path: Path) -> None:
    objs = gen.generate(150, "bench-g")
    files = gen.write_tree(tmp_path / "app", objs)
    assert files[0].name == "00-namespaces.yaml"  # sorts first: kubectl -R creates them first
    assert len(files) == 1 + 10 * len(gen.KINDS)
    docs = [d for f in files for d in yaml.safe_load_all(f.read_text())]
    assert len(docs) == 150
    cm = tmp_path / "app" / "bench-g-00" / "configmap.yaml"
    assert {d["kind"] for d in yaml.safe_load_all(cm.read_text())} == {"ConfigMap"}
    # rewriting with fewer objects removes files that became empty
    gen.write_tree(tmp_path / "app", [o for o in objs if o.kind != "Secret"])
    assert not list((tmp_path / "app").rglob("secret.yaml"))


def test_prune_set_is_ten_percent_and_never_a_namespace() -> None:
    objs = gen.generate(1000, "bench-g")
    drop = gen.prune_set(objs)
    assert len(drop) == 100
    assert all(i >= 0 for i in drop)
    assert len({o.kind for o in objs if o.index in drop}) == len(gen.KINDS)


def test_drift_set_one_percent_spread_over_kinds_avoiding_pruned() -> None:
    objs = gen.generate(1000, "bench-g")
    drop = gen.prune_set(objs)
    drifts = gen.drift_set(objs, avoid=drop)
    assert len(drifts) == 10
    assert len({(d.namespace, d.name) for d in drifts}) == 10
    assert {d.kind for d in drifts} == set(gen.KINDS)
    by_name = {o.name: o for o in objs}
    assert not any(by_name[d.name].index in drop for d in drifts)
    verbs = Counter(d.args[2] for d in drifts)
    assert verbs["set"] and verbs["scale"] and verbs["label"]
    for d in drifts:
        assert d.args[:2] == ("-n", d.namespace)


def test_with_prefix_retargets_namespace_only() -> None:
    d = gen.drift_set(gen.generate(200, "bench-g"))[0]
    k = gen.with_prefix(d, "bench-g", "bench-k")
    assert k.namespace == "bench-k" + d.namespace.removeprefix("bench-g")
    assert k.args[1] == k.namespace
    assert k.args[2:] == d.args[2:]


_T = "I1128 00:58:40.448648    7655 "
KLOG = "\n".join(
    [
        _T + "loader.go:407] Config loaded from file:  /tmp/kubeconfig",
        _T + 'round_trippers.go:632] "Response" verb="GET" url="https://h/api" status="200 OK"',
        _T + 'round_trippers.go:632] "Response" verb="PATCH" url="https://h/a" status="200 OK"',
        _T + 'request.go:683] "Waited before sending request" delay="199ms" '
        'reason="client-side throttling, not priority and fairness" verb="GET" URL="https://h/y"',
        _T + "round_trippers.go:553] GET https://127.0.0.1:1/apis 200 OK in 3 milliseconds",
        _T + "round_trippers.go:469] curl -v -XGET 'https://127.0.0.1:1/apis'",
        "namespace/bench-k-00 serverside-applied",
    ]
)


def test_count_kubectl_requests_counts_response_lines_only() -> None:
    assert measure.count_kubectl_requests(KLOG) == 3
    assert measure.count_kubectl_throttled(KLOG) == 1
    assert measure.count_kubectl_requests("") == 0


def test_count_gitops_requests_takes_the_last_requests_event() -> None:
    err = '{"event": "requests", "count": 3}\nnoise\n{"event":"requests","count":42}\n'
    assert measure.count_gitops_requests(err) == 42
    assert measure.count_gitops_requests('{"event": "other", "count": 1}\n{bad json') is None
    assert measure.count_gitops_requests('{"event": "requests", "count": true}') is None


def test_kubectl_output_parsers() -> None:
    out = "namespace/a serverside-applied\nconfigmap/b serverside-applied\nconfigmap/c pruned\n"
    assert measure.kubectl_output_counts(out) == {"serverside-applied": 2, "pruned": 1}
    diff = "diff -u -N /tmp/LIVE-1/a /tmp/MERGED-1/a\n--- a\n+++ b\n-x\n+y\ndiff -u -N c d\n"
    assert measure.kubectl_diff_objects(diff) == 2


def test_run_measured_reports_exit_code_time_and_memory(tmp_path: Path) -> None:
    code = "import sys; b = bytearray(64 * 2**20); print('out'); sys.exit(3)"
    done = measure.run_measured([sys.executable, "-c", code], cwd=tmp_path)
    assert done.returncode == 3
    assert done.stdout == "out\n"
    assert done.peak_mb >= 64  # ru_maxrss of the child, not of this process
    assert done.wall_s > 0


def test_run_measured_times_out() -> None:
    with pytest.raises(measure.BenchError, match="timed out"):
        measure.run_measured([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.5)
