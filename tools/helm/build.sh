#!/usr/bin/env bash
# Build the pinned helm binary once into the control-plane cache directory.
#
#   tools/helm/build.sh          # build if missing, print the binary's path
#
# helm.sh/helm/v3 at $HELM_VERSION comes from the Go module proxy (helm's own go.sum pins
# its dependencies). The ldflags are those of helm's own Makefile: the Kubernetes version
# helm assumes when none is passed is that of its k8s.io modules (client-go v0.37.0 → 1.37;
# plain `go install` leaves it at v1.20). gitops-nb passes --kube-version and
# --api-versions from the target cluster anyway. No-op when the binary is there.
set -euo pipefail
HELM_VERSION=v3.22.0
HELM_K8S_MINOR=37  # helm v3.22.0 go.mod: k8s.io/client-go v0.37.0
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cp_mod="$here/../controlplane/go.mod"
k8s_version="$(awk '$1=="k8s.io/kubernetes"{print $2}' "$cp_mod")"
etcd_version="$(awk '$1=="go.etcd.io/etcd/server/v3"{print $2}' "$cp_mod")"
dir="${GITOPS_NB_CONTROLPLANE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gitops-nb/controlplane/k8s-${k8s_version}_etcd-${etcd_version}}"
out="$dir/helm-$HELM_VERSION"
if [[ -x "$out" ]]; then
  echo "$out"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "helm/build.sh: Go is not installed; install Go >= 1.26 and rerun tools/helm/build.sh" >&2
  exit 3
fi
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
ldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
  ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$HELM_K8S_MINOR"
done
mkdir -p "$dir"
tmp="$(mktemp -d "$dir/.build-helm.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
echo "helm/build.sh: building helm $HELM_VERSION ..." >&2
start=$(date +%s)
# GOFLAGS from the environment could carry -mod=vendor or the like: not for a pkg@version.
CGO_ENABLED=0 GOFLAGS=-trimpath GOBIN="$tmp" \
  go install -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
mv "$tmp/helm" "$out"
echo "helm/build.sh: helm built in $(( $(date +%s) - start ))s" >&2
echo "$out"
