#!/usr/bin/env bash
# Installs what the project needs for Kubernetes, caching each part per version outside the work tree,
# then prints the directories to put on PATH (colon-separated, one line):
#
#   * the pulumi-kubernetes provider plugin, registered with the engine (PULUMI_HOME) at the version the
#     locked Python SDK asks for. Needed by anyone who deploys to Kubernetes.
#   * a local control plane for the tests: etcd, kube-apiserver, kube-controller-manager, kube-scheduler
#     and kwok (fake nodes), plus kwok's stage configs in `<kwok dir>/stages/`. Only tests need these.
#
# The plugin comes, in order, from: the engine's plugin directory; Pulumi's official download; this
# script's cached earlier build; a new build from the Go module sources. Everything else is built from the Go
# module proxy (tools/kube/ pins the versions). A finished install is moved into place in one step, so an
# interrupted run leaves no half cache. SONGGEN_KUBE_SKIP_CONTROL_PLANE=1 skips the test-only binaries.
set -euo pipefail
exec 3>&1 1>&2 # only the final PATH line goes to stdout; every tool's chatter goes to stderr

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${SONGGEN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/songgen-studio-fly}
wrappers=$here/tools/kube

# The one provider module the Go module proxy serves (a snapshot of the provider's main branch).
provider_module=github.com/pulumi/pulumi-kubernetes/provider/v4
provider_snapshot=v4.0.0-20260115033456-f47bc2d6f199
kwok_version=v0.8.0

log() { printf 'setup-kube: %s\n' "$*"; }

# Scratch directories of unfinished builds, removed however the script ends.
scratch=()
trap 'rm -rf "${scratch[@]}"' EXIT

# The SDK asks the engine for the plugin at the SDK's own version, so that is the version to install.
sdk_version=$(awk '/^name = "pulumi-kubernetes"$/ { getline; gsub(/"/, "", $3); print $3; exit }' "$here/uv.lock")
[ -n "$sdk_version" ] || { log "no pulumi-kubernetes package found in uv.lock"; exit 1; }

# Go runs one compile per core by default; each large Kubernetes package takes 1-2 GB and the provider's
# link about 4.6 GB, so with little free memory (other builds on the machine) fewer jobs run at once.
go_jobs() {
    local avail_kb jobs
    avail_kb=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
    jobs=$((avail_kb / (3 * 1024 * 1024)))
    [ "$jobs" -gt "$(nproc)" ] && jobs=$(nproc)
    [ "$jobs" -lt 1 ] && jobs=1
    echo "$jobs"
}

# go mod download prints JSON; pull one field out of it.
module_field() {
    go mod download -json "$1" | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(d.get("Error")) if "Error" in d else print(d[sys.argv[1]])' "$2"
}

# The version a wrapper module's go.mod requires of a module.
required_version() { awk -v m="$2" '$1 == m { print $2; exit } $1 == "require" && $2 == m { print $3; exit }' "$1/go.mod"; }

# Hash of a wrapper module's files, so editing them rebuilds what they build.
source_hash() { cat "$@" | sha256sum | cut -c1-16; }

require_go() { command -v go >/dev/null || { log "Go is needed to build what is not cached yet"; exit 1; }; }

# Runs `build <staging dir>` unless `dest` already holds a build with the same source stamp, then moves
# the staging dir into place. `stamp` goes into dest/.source.
install_built() {
    local dest=$1 stamp=$2 build=$3
    [ -f "$dest/.source" ] && [ "$(cat "$dest/.source")" = "$stamp" ] && return 0
    mkdir -p "$cache"
    local staging started
    staging=$(mktemp -d "$cache/.staging.XXXXXX")
    scratch+=("$staging")
    started=$SECONDS
    "$build" "$staging"
    echo "$stamp" > "$staging/.source"
    rm -rf "$dest" && mv "$staging" "$dest"
    log "$(basename "$dest") ready in $dest ($((SECONDS - started)) s)"
}

# ---- the provider plugin ------------------------------------------------------------------------

plugin_installed() {
    pulumi plugin ls --json 2>/dev/null | python3 -c '
import json, sys
plugins = json.load(sys.stdin) or []
sys.exit(not any(p["kind"] == "resource" and p["name"] == "kubernetes" and p["version"].lstrip("v") == sys.argv[1]
                 for p in plugins))' "$sdk_version"
}

build_provider() {
    local out=$1 provider sdk_required sdk src
    require_go
    log "building pulumi-resource-kubernetes $sdk_version from the Go module sources (about 8 min of CPU, once per version)"
    provider=$(module_field "$provider_module@$provider_snapshot" Dir)
    # provider/go.mod replaces the SDK with ../sdk: lay both out side by side as in the repository.
    sdk_required=$(required_version "$provider" github.com/pulumi/pulumi-kubernetes/sdk/v4)
    sdk=$(module_field "github.com/pulumi/pulumi-kubernetes/sdk/v4@$sdk_required" Dir)
    src=$out/.src
    mkdir "$src"
    cp -r "$provider" "$src/provider" && cp -r "$sdk" "$src/sdk" && chmod -R u+w "$src"
    # The module zip lacks the embedded schema files; the generator stamps the version into them.
    (cd "$src/provider/cmd/pulumi-resource-kubernetes" && VERSION=$sdk_version go run -p "$(go_jobs)" ./generate.go &&
        go build -p "$(go_jobs)" -trimpath \
            -ldflags "-s -w -X $provider_module/pkg/version.Version=$sdk_version" \
            -o "$out/pulumi-resource-kubernetes" .)
    rm -rf "$src"
}

install_provider_plugin() {
    command -v pulumi >/dev/null || { log "pulumi is not on PATH (run scripts/setup-tools.sh first)"; return 1; }
    plugin_installed && return 0
    # Pulumi's own release where it is reachable; bounded, since here it is not.
    if timeout 180 pulumi plugin install resource kubernetes "v$sdk_version" --non-interactive; then
        return 0
    fi
    log "the official plugin download failed; using a build from the Go module sources"
    local built=$cache/pulumi-kubernetes-v$sdk_version
    install_built "$built" "$provider_module@$provider_snapshot" build_provider
    pulumi plugin install resource kubernetes "v$sdk_version" --file "$built/pulumi-resource-kubernetes" \
        --non-interactive
    plugin_installed || { log "the engine does not list kubernetes $sdk_version after installing it"; return 1; }
    log "registered pulumi-resource-kubernetes $sdk_version (built from $provider_snapshot)"
}

# ---- the test control plane ---------------------------------------------------------------------

etcd_dir=$wrappers/etcd
etcd_version=$(required_version "$etcd_dir" go.etcd.io/etcd/server/v3)
kube_dir=$wrappers/kubernetes
kube_version=$(required_version "$kube_dir" k8s.io/kubernetes)

build_etcd() {
    require_go
    log "building etcd $etcd_version"
    (cd "$etcd_dir" && go build -p "$(go_jobs)" -trimpath -ldflags "-s -w" -o "$1/etcd" .)
}

build_kubernetes() {
    require_go
    log "building kube-apiserver, kube-controller-manager and kube-scheduler $kube_version (about 9 min of CPU)"
    local minor=${kube_version#v1.}
    minor=${minor%%.*}
    # What `hack/lib/version.sh` stamps in; clients (the Pulumi provider too) read the server's version.
    local ldflags="-s -w" key value pkg
    for key in gitVersion=$kube_version gitMajor=1 gitMinor=$minor gitTreeState=clean; do
        value=${key#*=} key=${key%%=*}
        for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
            ldflags+=" -X $pkg.$key=$value"
        done
    done
    (cd "$kube_dir" && go build -p "$(go_jobs)" -trimpath -ldflags "$ldflags" -o "$1/" \
        k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
        k8s.io/kubernetes/cmd/kube-scheduler)
}

build_kwok() {
    require_go
    log "building kwok $kwok_version"
    GOBIN=$1 go install -p "$(go_jobs)" -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$kwok_version"
    # kwok starts no fake node or pod without stage configs; they ship in its own module.
    local module group
    module=$(module_field "sigs.k8s.io/kwok@$kwok_version" Dir)
    mkdir -p "$1/stages"
    for group in node/fast node/heartbeat node/heartbeat-with-lease pod/fast; do
        mkdir -p "$1/stages/$group"
        install -m 0644 "$module/kustomize/stage/$group"/*.yaml "$1/stages/$group/"
        rm -f "$1/stages/$group/kustomization.yaml"
    done
}

install_control_plane() {
    etcd_dest=$cache/etcd-$etcd_version
    kube_dest=$cache/kubernetes-$kube_version
    kwok_dest=$cache/kwok-$kwok_version
    install_built "$etcd_dest" "$(source_hash "$etcd_dir"/go.mod "$etcd_dir"/go.sum "$etcd_dir"/*.go)" build_etcd
    install_built "$kube_dest" "$(source_hash "$kube_dir"/go.mod "$kube_dir"/go.sum)" build_kubernetes
    install_built "$kwok_dest" "$kwok_version" build_kwok
}

install_provider_plugin
if [ "${SONGGEN_KUBE_SKIP_CONTROL_PLANE:-}" = 1 ]; then
    exit 0
fi
install_control_plane
printf '%s:%s:%s\n' "$etcd_dest" "$kube_dest" "$kwok_dest" >&3
