#!/usr/bin/env bash
# Builds the Kubernetes binaries the test cluster runs (kube-apiserver, kubelet, kube-scheduler,
# kube-controller-manager) and a static `pause`, from Debian bookworm's `kubernetes` source package,
# and installs the Debian packages the cluster needs. The binaries are cached outside the checkout in
# /var/cache/gust-kubernetes/<debian-version>/bin, so a machine builds them once (~10 min on 2 cores);
# when that cache is complete this script only checks the packages and returns in a second.
# The system's apt configuration is never touched: the source is fetched with a private sources list
# and private apt state directories.
#
# Prints the bin directory as its last line. Environment:
#   GUST_KUBERNETES_DEB_VERSION  the source package version to build (default: the pinned one below)
#   GUST_KUBERNETES_CACHE        cache root (default /var/cache/gust-kubernetes)
set -euo pipefail

PINNED_VERSION=1.20.5+really1.20.2-1.1+deb12u1
VERSION=${GUST_KUBERNETES_DEB_VERSION:-$PINNED_VERSION}
CACHE=${GUST_KUBERNETES_CACHE:-/var/cache/gust-kubernetes}
BINARIES=(kube-apiserver kubelet kube-scheduler kube-controller-manager pause)
# Changes whenever the way the binaries are built changes, so a cache built differently is redone.
RECIPE="gust-2 reflect2-1.0.2"
# Runtime packages of the cluster plus what the build needs.
PACKAGES=(golang-go rsync jq etcd-server containerd runc containernetworking-plugins busybox-static
  openssl iproute2 git curl ca-certificates gcc libc6-dev dpkg-dev xz-utils util-linux
  golang-github-modern-go-reflect2-dev)

say() { printf '[cluster/build] %s\n' "$*" >&2; }
started=$SECONDS

install_packages() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null
  # The Debian packages start their services; the cluster runs its own instances with its own
  # configuration, so the system ones are stopped where a service manager runs them.
  local unit
  for unit in etcd containerd; do
    if command -v systemctl >/dev/null && systemctl is-active --quiet "$unit" 2>/dev/null; then
      systemctl disable --now "$unit" >/dev/null 2>&1 || true
    fi
  done
}

complete() { # complete <bin dir>
  local b
  [ "$(cat "$1/.complete" 2>/dev/null)" = "$RECIPE" ] || return 1
  for b in "${BINARIES[@]}"; do [ -x "$1/$b" ] || return 1; done
}

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
if ! flock -n 9; then
  say "another build holds $CACHE/.lock; waiting for it"
  flock 9
fi

install_packages

if complete "$CACHE/$VERSION/bin"; then
  ln -sfn "$VERSION" "$CACHE/current"
  say "cached binaries for kubernetes $VERSION in $CACHE/$VERSION/bin"
  echo "$CACHE/$VERSION/bin"
  exit 0
fi

# --- fetch the source with a private apt configuration ---
apt_dir=$CACHE/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
cat >"$apt_dir/sources.list" <<'EOF'
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-updates main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security bookworm-security main
EOF
APT_OPTS=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o Dir::Cache::pkgcache=
  -o Dir::Cache::srcpkgcache= -o APT::Sandbox::User=root)
say "updating the private source lists in $apt_dir"
apt-get "${APT_OPTS[@]}" update -qq

available=$(apt-cache "${APT_OPTS[@]}" showsrc kubernetes 2>/dev/null | sed -n 's/^Version: //p' | sort -u)
if ! grep -qxF "$VERSION" <<<"$available"; then
  say "kubernetes source $VERSION is not available; the archive has: $(echo $available)"
  exit 1
fi

work=$CACHE/$VERSION/work
mkdir -p "$work"
if ! ls "$work"/kubernetes_*.orig.tar.* >/dev/null 2>&1; then
  say "downloading source package kubernetes=$VERSION"
  (cd "$work" && apt-get "${APT_OPTS[@]}" source --download-only -qq "kubernetes=$VERSION")
fi
orig=$(ls "$work"/kubernetes_*.orig.tar.* | head -n 1)

src=$work/src
if [ ! -f "$src/.extracted" ]; then
  say "extracting $(basename "$orig")"
  rm -rf "$src" && mkdir -p "$src"
  tar -xf "$orig" -C "$src" --strip-components=1
  # The tree vendors reflect2 1.0.1, whose map iteration crashes binaries built with Go >= 1.18
  # ("unexpected fault address" in the apiserver's JSON encoding); Debian's 1.0.2 fixes it.
  reflect2=/usr/share/gocode/src/github.com/modern-go/reflect2
  [ -f "$reflect2/unsafe_map.go" ] || { say "$reflect2 is missing (golang-github-modern-go-reflect2-dev)"; exit 1; }
  rm -rf "$src/vendor/github.com/modern-go/reflect2"
  mkdir -p "$src/vendor/github.com/modern-go/reflect2"
  cp "$reflect2"/*.go "$reflect2"/*.s "$src/vendor/github.com/modern-go/reflect2/"
  rm -f "$src"/vendor/github.com/modern-go/reflect2/*_test.go
  touch "$src/.extracted"
fi

# --- build ---
upstream=${VERSION#*really}
upstream=${upstream%%-*}
cat >"$work/version.env" <<EOF
KUBE_GIT_VERSION='v$upstream'
KUBE_GIT_MAJOR='${upstream%%.*}'
KUBE_GIT_MINOR='$(cut -d. -f2 <<<"$upstream")'
KUBE_GIT_TREE_STATE='clean'
KUBE_GIT_COMMIT='0000000000000000000000000000000000000000'
EOF
# A first attempt without rsync leaves an empty generator binary behind that later runs trust.
gen=$src/_output/bin/prerelease-lifecycle-gen
[ -e "$gen" ] && [ ! -s "$gen" ] && rm -f "$gen"

say "building kube-apiserver, kubelet, kube-scheduler, kube-controller-manager with $(go version | cut -d' ' -f3) (about 8-10 minutes on 2 cores)"
(
  cd "$src"
  unset GOFLAGS GOPATH GO111MODULE
  export CGO_ENABLED=0 KUBE_GIT_VERSION_FILE=$work/version.env GOCACHE=$work/go-cache
  make WHAT="cmd/kube-apiserver cmd/kubelet cmd/kube-scheduler cmd/kube-controller-manager"
) >"$work/make.log" 2>&1 || {
  say "make failed; the last lines of $work/make.log:"
  tail -n 30 "$work/make.log" >&2
  exit 1
}

say "building the static pause binary"
out=$src/_output/local/bin/linux/amd64
gcc -Os -Wall -Werror -static -DVERSION="v$upstream-gust" -o "$out/pause" "$src/build/pause/linux/pause.c"
strip "$out/pause" 2>/dev/null || true

bin=$CACHE/$VERSION/bin
rm -rf "$bin.tmp" && mkdir -p "$bin.tmp"
for b in "${BINARIES[@]}"; do cp "$out/$b" "$bin.tmp/$b"; done
echo "$RECIPE" >"$bin.tmp/.complete"
rm -rf "$bin" && mv "$bin.tmp" "$bin"
ln -sfn "$VERSION" "$CACHE/current"
# The tree and the Go build cache take gigabytes; the binaries are all that is kept.
rm -rf "$work"
say "built in $((SECONDS - started))s: $bin"
echo "$bin"
