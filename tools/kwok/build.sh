#!/usr/bin/env bash
# Install the pinned kwok (simulated nodes and Pods) and its Stage definitions once.
#
#   tools/kwok/build.sh          # build if missing, print the directory
#
# The directory is $GITOPS_NB_KWOK_DIR if set, otherwise
# ${XDG_CACHE_HOME:-~/.cache}/gitops-nb/kwok/kwok-<v>/ holding `kwok` and `stages/*.yaml`
# (the node and "fast" pod Stages the module ships under kustomize/stage/). When both are
# there it does nothing. The build runs inside this module (`go build` with -mod=readonly), so
# go.mod and go.sum pin kwok and every dependency: a checksum mismatch or a missing go.sum
# entry fails the build instead of resolving something else. Files land atomically.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
version="$(awk '$1=="require" && $2=="sigs.k8s.io/kwok"{print $3} $1=="sigs.k8s.io/kwok"{print $2}' "$here/go.mod" | head -1)"
dir="${GITOPS_NB_KWOK_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gitops-nb/kwok/kwok-${version}}"
stages=(
  node/fast/node-initialize.yaml
  node/heartbeat-with-lease/node-heartbeat-with-lease.yaml
  pod/fast/pod-ready.yaml
  pod/fast/pod-complete.yaml
  pod/fast/pod-delete.yaml
)

complete=1
[[ -x "$dir/kwok" ]] || complete=0
for s in "${stages[@]}"; do [[ -f "$dir/stages/$(basename "$s")" ]] || complete=0; done
if [[ $complete -eq 1 ]]; then
  echo "$dir"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "build.sh: Go is not installed; install Go >= 1.26 and rerun tools/kwok/build.sh" >&2
  exit 3
fi

mkdir -p "$dir"
tmp="$(mktemp -d "$dir/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
start=$(date +%s)
echo "build.sh: building sigs.k8s.io/kwok/cmd/kwok ${version} from $here/go.mod ..." >&2
cd "$here"
export CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -mod=readonly -trimpath"
go build -ldflags "-s -w" -o "$tmp/kwok" sigs.k8s.io/kwok/cmd/kwok
src="$(go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)/kustomize/stage"
mkdir -p "$tmp/stages"
for s in "${stages[@]}"; do cp "$src/$s" "$tmp/stages/"; done
mkdir -p "$dir/stages"
for s in "${stages[@]}"; do mv "$tmp/stages/$(basename "$s")" "$dir/stages/"; done
mv "$tmp/kwok" "$dir/kwok"
echo "build.sh: kwok built in $(( $(date +%s) - start ))s" >&2
echo "$dir"
