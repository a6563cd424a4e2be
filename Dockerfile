# The gitops-nb image: the reconciler CronJob (jobs/cronjob.yaml) runs it as
#   gitops-nb reconcile --config /etc/gitops-nb/config.yaml
# Build:  docker build -t ghcr.io/gitops-nb/gitops-nb:0.1.0 .
# Not built in CI (no container engine there); the manifests are tested instead.

# kustomize, for apps whose path holds a kustomization.yaml (gitops_nb.source.render runs
# `kustomize build`; kubectl is not needed: the API client speaks HTTP itself). Copied from
# the official SIG-CLI image, pinned by tag, so no curl and no checksum list to maintain;
# add @sha256:<digest> for byte-for-byte reproducible builds. Plain-YAML apps never use it.
ARG KUSTOMIZE_IMAGE=registry.k8s.io/kustomize/kustomize:v5.6.0
FROM ${KUSTOMIZE_IMAGE} AS kustomize

# helm, for apps whose path holds a Chart.yaml (README "Helm charts"): built exactly as the
# project builds it (tools/helm/build.sh: helm.sh/helm/v3 at the pinned version from the Go
# module proxy, helm's own release ldflags), not downloaded. The Go image is pinned by tag;
# add @sha256:<digest> for byte-for-byte reproducible builds.
ARG GO_IMAGE=golang:1.26-bookworm
FROM ${GO_IMAGE} AS helm
COPY tools/helm/build.sh /src/tools/helm/build.sh
COPY tools/controlplane/go.mod /src/tools/controlplane/go.mod
RUN GITOPS_NB_CONTROLPLANE_DIR=/out /src/tools/helm/build.sh \
    && mv /out/helm-* /out/helm && /out/helm version --short

FROM python:3.11-slim

# git fetches the repository (GitPython drives the git CLI); openssh-client serves ssh:// and
# git@host: URLs and gives ssh-keygen, which verifies SSH-signed commits; gnupg verifies
# OpenPGP-signed ones (README "Trust: signed commits only"); ca-certificates serves
# https://. No recommends: less to patch.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        git openssh-client gnupg ca-certificates \
    && rm -rf /var/lib/apt/lists/*

# The non-root user the pod runs as (runAsUser/fsGroup 10001). It must exist in /etc/passwd:
# ssh refuses to run for a uid without an entry.
RUN groupadd --gid 10001 gitops \
    && useradd --uid 10001 --gid 10001 --home-dir /work --no-create-home \
        --shell /usr/sbin/nologin gitops \
    && mkdir -p /work \
    && chown 10001:10001 /work

COPY --from=kustomize /app/kustomize /usr/local/bin/kustomize
COPY --from=helm /out/helm /usr/local/bin/helm

# The root filesystem is read-only in the pod: no .pyc writes at run time (pip compiles them
# at install time), unbuffered output so JSON log lines reach `kubectl logs` at once.
# GITOPS_NB_HELM: the image's helm (gitops_nb.source.helm; outside the image the pinned
# binary is looked up in the control-plane cache instead).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOME=/work \
    GITOPS_NB_HELM=/usr/local/bin/helm

COPY pyproject.toml README.md /src/
COPY gitops_nb/ /src/gitops_nb/
# the postgres extra (psycopg 3, binary wheel) lets records.store: postgres work in the image
RUN pip install --no-cache-dir "/src[postgres]" && rm -rf /src

WORKDIR /work
USER 10001:10001
# The reconciler handles SIGTERM itself (stops after the object in flight, records the run
# as interrupted, releases its Lease), so it can be PID 1 without an init.
ENTRYPOINT ["gitops-nb"]
CMD ["--help"]
