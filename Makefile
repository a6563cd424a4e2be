# Two commands: `make test` and `make demo` do all set-up themselves on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=
# Fleet sizes `make bench` runs after the kubectl comparison (benchmarks/fleet.py): 100 adds
# ≈ 4 min on 2 cores; FLEET_SIZES="100 500 1000" gives the full table (≈ 45 min, mostly the
# kubectl loop); FLEET_SIZES= skips the fleet benchmark.
FLEET_SIZES ?= 100

.PHONY: test demo lint controlplane browser postgres notebooks bench

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[notebook,dev,postgres]'
	touch $(STAMP)

# Builds kube-apiserver, kube-controller-manager, kube-scheduler, kubectl and etcd once into the
# cache (~/.cache/gitops-nb/controlplane/...; $$GITOPS_NB_CONTROLPLANE_DIR overrides), helm for
# Helm charts next to them, and kwok with its Stage files (~/.cache/gitops-nb/kwok/...;
# $$GITOPS_NB_KWOK_DIR); gpg and ssh-keygen (Debian gnupg, openssh-client) verify signed
# commits. No-op when present.
controlplane:
	tools/controlplane/build.sh
	tools/helm/build.sh
	tools/kwok/build.sh
	@command -v gpg >/dev/null 2>&1 && command -v ssh-keygen >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq gnupg openssh-client; }

# Headless Chromium opens the HTML report and the notebooks in JupyterLab in the tests
# (Debian's chromium and the matching chromium-driver; CI runs as root).
browser:
	@command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium chromium-driver; }

# PostgreSQL server binaries for the record-store tests, which initdb and start their own
# server in a temporary directory as the unprivileged `postgres` user (Debian's package).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq postgresql; }

lint: $(STAMP)
	$(VENV)/bin/ruff check gitops_nb tests benchmarks examples
	$(VENV)/bin/ruff format --check gitops_nb tests benchmarks examples
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test: $(STAMP) controlplane browser postgres lint
	$(VENV)/bin/pytest $(PYTEST_ARGS) tests

demo: $(STAMP) controlplane
	$(PY) examples/demo.py

notebooks: $(STAMP)
	$(PY) -m gitops_nb.notebook.server notebooks/

bench: $(STAMP) controlplane
	$(PY) benchmarks/run.py
	$(if $(strip $(FLEET_SIZES)),$(PY) benchmarks/fleet.py --sizes $(FLEET_SIZES))
