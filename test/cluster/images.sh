#!/usr/bin/env bash
# Builds the test cluster's local images and imports them into its containerd (namespace k8s.io).
# There is no registry: each image is packed from files of this machine into a docker-archive tar.
#   gust-test/pause:1    the pod sandbox image (containerd's sandbox_image), a static `pause`
#   gust-test/shell:1    busybox /bin/sh with its applets, /tmp, root and a uid 1000 user `gust`
#   gust-test/service:1  the shell image plus a page, whose own CMD serves it with busybox httpd on
#                        port 8080 (a service sidecar, started without a command like a database)
#   gust-test/helper:dev Gust's helper image: busybox in /usr/local/bin (applets in /bin), git, node
#                        and CA certificates in one layer; the repository's gust-step and
#                        dist/gust-runner.mjs (behind /usr/local/bin/gust-runner) in a second one
# Run on every cluster start because the repository's files change; it stays fast by caching each
# layer under a fingerprint of its files (names, sizes, modes, times) and by importing an image only
# when its content differs from what containerd already has.
# Environment: GUST_CLUSTER_DIR (default /var/tmp/gust-cluster), GUST_KUBE_BIN (the built binaries;
# default the build cache's current version), GUST_STEP_ENTRYPOINT (default the repository's
# runner-images/entrypoint/gust-step).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
DIR=${GUST_CLUSTER_DIR:-/var/tmp/gust-cluster}
KUBE_BIN=${GUST_KUBE_BIN:-/var/cache/gust-kubernetes/current/bin}
SOCK=$DIR/containerd/containerd.sock
PAUSE_IMAGE=gust-test/pause:1
SHELL_IMAGE=gust-test/shell:1
SERVICE_IMAGE=gust-test/service:1
HELPER_IMAGE=gust-test/helper:dev
WORK=$DIR/images
LAYERS=$DIR/image-layers

say() { printf '[cluster/images] %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }
ctr_() { ctr --address "$SOCK" -n k8s.io "$@"; }
started=$SECONDS

[ -S "$SOCK" ] || die "containerd socket $SOCK not found: start the cluster with test/cluster/up.sh"
[ -x "$KUBE_BIN/pause" ] || die "$KUBE_BIN/pause not found: run test/cluster/build.sh"
[ -x /bin/busybox ] || die "/bin/busybox not found: install busybox-static"

# copy_with_libs <rootfs> <file>...: copies the binaries to the same paths in rootfs with the shared
# libraries (and the dynamic loader) that ldd lists for them, symlinks resolved, times kept.
copy_with_libs() {
  local root=$1 files
  shift
  mapfile -t files < <( (printf '%s\n' "$@" && ldd "$@" 2>/dev/null | grep -oE '/[^ :]+') | sort -u)
  # relative to / because cp --parents -p resolves the parent directories it copies from the cwd
  (cd / && cp -L -p --parents "${files[@]#/}" "$root")
}

# base_rootfs <rootfs> <busybox path in image>: busybox with its applets linked in /bin, the usual
# directories and the accounts.
base_rootfs() {
  local root=$1 bb=$2
  rm -rf "$root" && mkdir -p "$root"
  mkdir -p "$root"/{bin,etc,root,home/gust,tmp,var/tmp,dev,proc,sys,usr/lib,usr/lib64}
  # merged /usr, as on Debian: the libraries copied from the host land under /usr/lib either way
  ln -s usr/lib "$root/lib" && ln -s usr/lib64 "$root/lib64"
  install -D -p -m 0755 /bin/busybox "$root$bb"
  chroot "$root" "$bb" --install -s /bin
  chmod 1777 "$root/tmp" "$root/var/tmp"
  chmod 0700 "$root/root"
  chown 1000:1000 "$root/home/gust"
  printf 'root:x:0:0:root:/root:/bin/sh\ngust:x:1000:1000:gust:/home/gust:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\ngust:x:1000:\nnogroup:x:65534:\n' >"$root/etc/group"
  printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"
  touch -d @0 "$root/etc/passwd" "$root/etc/group" "$root/etc/nsswitch.conf"
}

# layer <rootfs>: packs rootfs as an uncompressed layer tar (fixed order and times, so the same files
# give the same digest) unless a layer of the same fingerprint is cached; sets LAYER_DIR (holding
# layer.tar) and LAYER_SHA.
layer() {
  local root=$1 key dir
  key=$( (cd "$root" && find . -printf '%y %p %s %m %U:%G %l\n' && find . -type f -printf '%p %T@\n') |
    sort | sha256sum | cut -c1-32)
  dir=$LAYERS/$key
  if [ ! -f "$dir/sha256" ]; then
    rm -rf "$dir" && mkdir -p "$dir"
    tar --sort=name --mtime=@0 --numeric-owner -C "$root" -cf "$dir/layer.tar" .
    sha256sum "$dir/layer.tar" | cut -d' ' -f1 >"$dir/sha256.tmp"
    mv "$dir/sha256.tmp" "$dir/sha256"
  fi
  touch "$dir/used"
  LAYER_DIR=$dir
  LAYER_SHA=$(cat "$dir/sha256")
}

# import_image <name> <config json> <rootfs>...: an image of one layer per rootfs, imported under
# <name> unless containerd already holds exactly that image.
import_image() {
  local name=$1 config=$2 out diff_ids=() root config_sha current layers=()
  shift 2
  out=$WORK/$(tr '/:' '__' <<<"$name")
  rm -rf "$out" && mkdir -p "$out"
  for root in "$@"; do
    layer "$root"
    diff_ids+=("sha256:$LAYER_SHA")
    mkdir -p "$out/$LAYER_SHA" && ln -f "$LAYER_DIR/layer.tar" "$out/$LAYER_SHA/layer.tar"
    layers+=("$LAYER_SHA/layer.tar")
  done
  jq -n --argjson config "$config" --args '{
      architecture: "amd64", os: "linux", created: "1970-01-01T00:00:00Z", config: $config,
      rootfs: { type: "layers", diff_ids: $ARGS.positional },
      history: [$ARGS.positional[] | { created: "1970-01-01T00:00:00Z", created_by: "gust test/cluster/images.sh" }] }' \
    "${diff_ids[@]}" >"$out/config.json"
  config_sha=$(sha256sum "$out/config.json" | cut -d' ' -f1)
  current=$(ctr_ images ls "name==docker.io/$name" 2>/dev/null | awk 'NR == 2 { print $3 }')
  if [ -n "$current" ] && [ "$(ctr_ content get "$current" 2>/dev/null | jq -r .config.digest)" = "sha256:$config_sha" ]; then
    say "$name is up to date"
    rm -rf "$out"
    return 0
  fi
  mv "$out/config.json" "$out/$config_sha.json"
  jq -n --arg config "$config_sha.json" --arg tag "$name" --args \
    '[{ Config: $config, RepoTags: [$tag], Layers: $ARGS.positional }]' "${layers[@]}" >"$out/manifest.json"
  tar -C "$out" -cf - manifest.json "$config_sha.json" "${layers[@]}" |
    ctr_ images import --platform linux/amd64 - >/dev/null
  rm -rf "$out"
  say "imported $name (sha256:${config_sha:0:12}, $(du -m --apparent-size -cs "$@" | tail -n 1 | cut -f1) MB)"
}

rm -rf "$WORK" && mkdir -p "$WORK" "$LAYERS"
rm -f "$LAYERS"/*/used
PATH_ENV='"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"'

# --- pause ---
root=$WORK/rootfs-pause
mkdir -p "$root"
install -p -m 0755 "$KUBE_BIN/pause" "$root/pause"
import_image "$PAUSE_IMAGE" '{"Entrypoint":["/pause"],"User":"65535:65535"}' "$root"

# --- shell ---
root=$WORK/rootfs-shell
base_rootfs "$root" /bin/busybox
import_image "$SHELL_IMAGE" "{\"Env\":[$PATH_ENV],\"Cmd\":[\"/bin/sh\"],\"WorkingDir\":\"/\"}" "$root"

# --- service: the shell image's layer and a page, served by its own CMD ---
page=$WORK/rootfs-service-page
rm -rf "$page" && mkdir -p "$page/www"
echo "service is up" >"$page/www/index.html"
touch -d @0 "$page/www/index.html" # a fixed time keeps the layer's fingerprint, so it is not re-imported
import_image "$SERVICE_IMAGE" "{\"Env\":[$PATH_ENV],\"Cmd\":[\"/bin/httpd\",\"-f\",\"-p\",\"8080\",\"-h\",\"/www\"],\"WorkingDir\":\"/\"}" "$root" "$page"

# --- helper: the tools ---
base=$WORK/rootfs-helper-base
base_rootfs "$base" /usr/local/bin/busybox
git_core=/usr/lib/git-core
copy_with_libs "$base" /usr/bin/git "$git_core/git-remote-http" "$git_core/git-sh-i18n--envsubst"
for f in git-submodule git-sh-setup git-sh-i18n; do install -p -m 0755 "$git_core/$f" "$base$git_core/$f"; done
for f in git-remote-https git-remote-ftp git-remote-ftps; do ln -s git-remote-http "$base$git_core/$f"; done
mkdir -p "$base/usr/share/git-core" && cp -a /usr/share/git-core/templates "$base/usr/share/git-core/"
node_bin=$(command -v node) || die "node is not installed"
copy_with_libs "$base" "$node_bin"
install -D -p -m 0644 /etc/ssl/certs/ca-certificates.crt "$base/etc/ssl/certs/ca-certificates.crt"
ln -s certs/ca-certificates.crt "$base/etc/ssl/cert.pem"

# --- helper: Gust's own files, which change with the repository ---
top=$WORK/rootfs-helper-gust
mkdir -p "$top/usr/local/bin" "$top/usr/local/lib/gust"
step=${GUST_STEP_ENTRYPOINT:-$REPO/runner-images/entrypoint/gust-step}
[ -f "$step" ] || die "$step is missing: the helper image needs the step entrypoint"
install -p -m 0755 "$step" "$top/usr/local/bin/gust-step"
runner=$REPO/dist/gust-runner.mjs
if [ -f "$runner" ]; then
  install -p -m 0644 "$runner" "$top/usr/local/lib/gust/gust-runner.mjs"
  if [ -f "$runner.map" ]; then install -p -m 0644 "$runner.map" "$top/usr/local/lib/gust/"; fi
  printf '#!/bin/sh\nexec node /usr/local/lib/gust/gust-runner.mjs "$@"\n' >"$top/usr/local/bin/gust-runner"
  chmod 0755 "$top/usr/local/bin/gust-runner" && touch -d @0 "$top/usr/local/bin/gust-runner"
else
  say "note: $runner not found (run 'npm run build'): the helper image has no gust-runner"
fi
import_image "$HELPER_IMAGE" "{\"Env\":[$PATH_ENV],\"Cmd\":[\"/bin/sh\"],\"WorkingDir\":\"/\"}" "$base" "$top"

# Layers no image uses any more.
for dir in "$LAYERS"/*/; do [ -f "$dir/used" ] || rm -rf "$dir"; done
rm -rf "$WORK"
say "images ready in $((SECONDS - started))s"
