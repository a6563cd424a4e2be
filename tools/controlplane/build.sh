#!/usr/bin/env bash
# Build the pinned control-plane binaries once into a cache directory.
#
#   tools/controlplane/build.sh          # build if missing, print the directory
#
# The directory is $GITOPS_NB_CONTROLPLANE_DIR if set, otherwise
# ${XDG_CACHE_HOME:-~/.cache}/gitops-nb/controlplane/k8s-<v>_etcd-<v>/.
# When all binaries are already there it does nothing. A first build takes
# many minutes on 2 cores; binaries land atomically, so an interrupted build
# leaves no half-filled cache.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
k8s_version="$(awk '$1=="k8s.io/kubernetes"{print $2}' "$here/go.mod")"
etcd_version="$(awk '$1=="go.etcd.io/etcd/server/v3"{print $2}' "$here/go.mod")"
dir="${GITOPS_NB_CONTROLPLANE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gitops-nb/controlplane/k8s-${k8s_version}_etcd-${etcd_version}}"
bins=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd)

missing=()
for b in "${bins[@]}"; do [[ -x "$dir/$b" ]] || missing+=("$b"); done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "$dir"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "build.sh: Go is not installed; install Go >= 1.26 and rerun tools/controlplane/build.sh" >&2
  exit 3
fi

minor="${k8s_version#v1.}"; minor="${minor%%.*}"
k8s_ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  k8s_ldflags+=" -X $pkg.gitVersion=${k8s_version} -X $pkg.gitMajor=1 -X $pkg.gitMinor=${minor}"
  k8s_ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

mkdir -p "$dir"
tmp="$(mktemp -d "$dir/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
cd "$here"
export CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -mod=mod -trimpath"
for b in "${missing[@]}"; do
  echo "build.sh: building $b (${k8s_version} / etcd ${etcd_version}) ..." >&2
  start=$(date +%s)
  case "$b" in
    etcd) go build -ldflags "-s -w" -o "$tmp/etcd" go.etcd.io/etcd/server/v3 ;;
    *)    go build -ldflags "$k8s_ldflags" -o "$tmp/$b" "k8s.io/kubernetes/cmd/$b" ;;
  esac
  mv "$tmp/$b" "$dir/$b"
  echo "build.sh: $b built in $(( $(date +%s) - start ))s" >&2
done
echo "$dir"
