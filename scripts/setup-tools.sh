#!/usr/bin/env bash
# Puts the Pulumi CLI and its Python language host (with the two helper scripts
# dynamic providers need) into a per-version cache outside the work tree, then
# prints the directory to put on PATH. Go is needed only when the official
# release download is unreachable and Pulumi is built from source.
#
# The Pulumi version is the one pyproject.toml pins for the Python SDK. Sources,
# in order: a cache hit; a `pulumi` already on PATH at that version; the official
# release tarball; a build from the Go module sources. A finished install is
# moved into place in one step, so an interrupted run leaves no half cache.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
version=$(sed -n 's/^ *"pulumi==\([0-9.]*\)",$/\1/p' "$here/pyproject.toml")
[ -n "$version" ] || { echo "setup: no pulumi==X.Y.Z pin found in pyproject.toml" >&2; exit 1; }

cache=${SONGGEN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/songgen-studio-fly}
dest=$cache/pulumi-v$version

log() { printf 'setup: %s\n' "$*" >&2; }

complete() {
    local dir=$1
    [ -x "$dir/pulumi" ] && [ -x "$dir/pulumi-language-python" ] &&
        [ -x "$dir/pulumi-language-python-exec" ] && [ -x "$dir/pulumi-resource-pulumi-python" ] &&
        [ "$("$dir/pulumi" version 2>/dev/null)" = "v$version" ]
}

from_path() {
    local cli
    cli=$(command -v pulumi 2>/dev/null) || return 1
    cli=$(readlink -f "$cli")
    complete "$(dirname "$cli")" || return 1
    log "using the Pulumi v$version already on PATH ($cli)"
    mkdir -p "$1"
    local name
    for name in pulumi pulumi-language-python pulumi-language-python-exec pulumi-resource-pulumi-python; do
        ln -sf "$(dirname "$cli")/$name" "$1/$name"
    done
}

from_release() {
    local url="https://get.pulumi.com/releases/sdk/pulumi-v$version-linux-x64.tar.gz"
    log "downloading the official Pulumi v$version release"
    curl -fsSL --connect-timeout 10 --max-time 300 "$url" -o "$1/pulumi.tgz" 2>/dev/null || return 1
    tar -xzf "$1/pulumi.tgz" -C "$1" --strip-components=1 && rm "$1/pulumi.tgz"
}

# go mod download prints JSON; pull the module's directory out of it.
module_dir() {
    go mod download -json "$1" | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(d.get("Error")) if "Error" in d else print(d["Dir"])'
}

from_source() {
    command -v go >/dev/null || { log "Go is needed to build Pulumi from source"; return 1; }
    log "building Pulumi v$version from the Go module sources (a few minutes, once per version)"
    local pkg sdk src
    pkg=$(module_dir "github.com/pulumi/pulumi/pkg/v3@v$version")
    sdk=$(module_dir "github.com/pulumi/pulumi/sdk/v3@v$version")
    # pkg/go.mod replaces the SDK with ../sdk, so lay both out as in the repository.
    src=$(mktemp -d)
    cp -r "$pkg" "$src/pkg" && cp -r "$sdk" "$src/sdk" && chmod -R u+w "$src"
    (cd "$src/pkg" && go build -trimpath -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$version" \
        -o "$1/pulumi" ./cmd/pulumi)
    # The upstream language-host module is not served by every module proxy; the
    # project carries a small host of its own that speaks the same protocol.
    build_langhost "$1"
    install -m 0755 "$src/sdk/python/cmd/pulumi-language-python-exec" "$1/"
    install -m 0755 "$src/sdk/python/dist/pulumi-resource-pulumi-python" "$1/"
    rm -rf "$src"
}

langhost_src=$here/tools/pulumi-language-python
langhost_hash() { cat "$langhost_src"/*.go "$langhost_src"/go.mod | sha256sum | cut -c1-16; }

build_langhost() {
    (cd "$langhost_src" && go build -trimpath -ldflags "-s -w -X main.version=$version" \
        -o "$1/pulumi-language-python.new" .)
    mv "$1/pulumi-language-python.new" "$1/pulumi-language-python"
    langhost_hash > "$1/.langhost-source"
}

# The project's own host is kept per source version, in a copy of the toolchain directory (hard links,
# so the CLI finds the host beside itself): checkouts of different versions sharing one cache never
# rebuild it back and forth under each other.
toolchain_dir() {
    if [ ! -f "$dest/.langhost-source" ]; then
        printf '%s' "$dest"
        return 0
    fi
    local dir=$cache/pulumi-v$version-host-$(langhost_hash)
    if [ ! -x "$dir/pulumi-language-python" ]; then
        log "building the project's language host ($(langhost_hash))"
        local staging
        staging=$(mktemp -d "$cache/.staging.XXXXXX") && chmod 755 "$staging"
        local name
        for name in pulumi pulumi-language-python-exec pulumi-resource-pulumi-python; do
            ln "$dest/$name" "$staging/$name" 2>/dev/null || cp -p "$dest/$name" "$staging/$name"
        done
        build_langhost "$staging"
        rm -rf "$dir" && mv "$staging" "$dir"
    fi
    printf '%s' "$dir"
}

install_pulumi() {
    complete "$dest" && return 0
    mkdir -p "$cache"
    local staging
    staging=$(mktemp -d "$cache/.staging.XXXXXX")
    trap 'rm -rf "$staging"' RETURN
    from_path "$staging" || from_release "$staging" || from_source "$staging" || {
        log "could not install Pulumi v$version by any route"
        return 1
    }
    complete "$staging" || { log "the Pulumi install in $staging is incomplete"; return 1; }
    rm -rf "$dest" && mv "$staging" "$dest"
    log "Pulumi $("$dest/pulumi" version) ready in $dest"
}

install_pulumi
printf '%s\n' "$(toolchain_dir)"
