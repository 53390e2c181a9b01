#!/usr/bin/env bash
# Tears the test cluster down: deletes the pods (so the kubelet and CNI clean up after them), stops
# every component by the PID up.sh recorded, removes leftover containers, unmounts what the kubelet
# and containerd mounted, deletes the bridge and the kubepods cgroups and removes the state under
# $GUST_CLUSTER_DIR (default /var/tmp/gust-cluster) and the few fixed paths the components use.
# Safe to run when the cluster is partly or not at all up. The build cache is left alone.
set -euo pipefail

DIR=${GUST_CLUSTER_DIR:-/var/tmp/gust-cluster}
RUN=$DIR/run
PKI=$DIR/pki
SOCK=$DIR/containerd/containerd.sock
API_PORT=16443
BRIDGE=gust0
RUNC_ROOT=/run/containerd/runc/k8s.io

say() { printf '[cluster/down] %s\n' "$*" >&2; }
started=$SECONDS
case "$DIR" in /|/var|/var/tmp|/tmp|/root|"") say "refusing to remove $DIR"; exit 1 ;; esac

running() {
  local pid
  pid=$(cat "$RUN/$1.pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/exe" ] || return 1
  [ "$(basename "$(readlink "/proc/$pid/exe")")" = "$(cat "$RUN/$1.exe" 2>/dev/null)" ]
}

# stop_pid <pid> <name>: TERM, then KILL after 15 s.
stop_pid() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || { say "stopped $2 (pid $pid)"; return 0; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  say "killed $2 (pid $pid)"
}

stop() {
  if running "$1"; then stop_pid "$(cat "$RUN/$1.pid")" "$1"; fi
  rm -f "$RUN/$1.pid"
}

api() { # api <method> <path>
  curl -fsS --max-time 10 -X "$1" --cacert "$PKI/ca.crt" -H "Authorization: Bearer $(cat "$PKI/admin.token")" \
    "https://127.0.0.1:$API_PORT$2"
}

# --- pods first, while the kubelet can still stop them properly ---
if running kube-apiserver && running kubelet && api GET /readyz >/dev/null 2>&1; then
  namespaces=$(api GET /api/v1/namespaces | jq -r '.items[].metadata.name')
  for ns in $namespaces; do
    api DELETE "/api/v1/namespaces/$ns/pods?gracePeriodSeconds=2" >/dev/null 2>&1 || true
  done
  say "deleting pods"
  for _ in $(seq 1 120); do
    left=$(api GET /api/v1/pods | jq '.items | length' 2>/dev/null || echo 0)
    [ "$left" = 0 ] && break
    sleep 0.5
  done
  [ "${left:-0}" = 0 ] || say "warning: $left pods still present; removing their containers directly"
fi

stop kubelet

# Containers the kubelet did not stop: kill their tasks through containerd, then through runc.
if running containerd; then
  for task in $(ctr --address "$SOCK" -n k8s.io tasks ls -q 2>/dev/null); do
    ctr --address "$SOCK" -n k8s.io tasks kill -s SIGKILL "$task" >/dev/null 2>&1 || true
  done
fi
if [ -d "$RUNC_ROOT" ]; then
  for id in $(runc --root "$RUNC_ROOT" list -q 2>/dev/null); do
    runc --root "$RUNC_ROOT" delete --force "$id" >/dev/null 2>&1 || true
  done
fi
stop containerd
# The runc shims outlive containerd; ours are the ones serving this cluster's socket.
for proc in /proc/[0-9]*; do
  cmdline=$(tr '\0' ' ' <"$proc/cmdline" 2>/dev/null) || continue
  case "$cmdline" in
    *containerd-shim*"-address $SOCK "*) stop_pid "${proc#/proc/}" containerd-shim ;;
  esac
done

stop kube-scheduler
stop kube-controller-manager
stop kube-apiserver
stop etcd

# --- mounts: the kubelet bind-mounts its root onto itself; secrets are tmpfs; rootfs are overlays ---
for target in $(findmnt -rn -o TARGET | awk -v dir="$DIR/" 'index($0 "/", dir) == 1' | sort -r) \
  $(findmnt -rn -o TARGET | grep '^/run/netns/cni-' || true); do
  umount "$target" 2>/dev/null || umount -l "$target" 2>/dev/null || say "warning: could not unmount $target"
done
rm -f /run/netns/cni-* 2>/dev/null || true

if ip link show "$BRIDGE" >/dev/null 2>&1; then
  ip link delete "$BRIDGE"
  say "deleted bridge $BRIDGE"
fi

# --- cgroups the kubelet made (v1 controllers and the unified hierarchy) ---
for cg in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
  [ -d "$cg" ] || continue
  find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || true
  [ -d "$cg" ] && say "warning: $cg could not be removed (processes left in it?)"
done

# --- state ---
rm -rf "$DIR"
rm -rf /var/log/pods /var/log/containers /var/lib/kubelet/device-plugins /run/containerd/s "$RUNC_ROOT"
rm -f /var/lib/cni/results/gust-* 2>/dev/null || true
rmdir /var/lib/kubelet /var/lib/cni/results /var/lib/cni /run/containerd/runc /run/containerd /run/netns 2>/dev/null || true
say "cluster down in $((SECONDS - started))s"
