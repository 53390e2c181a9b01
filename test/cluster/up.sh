#!/usr/bin/env bash
# Brings up a real single-node Kubernetes (v1.20, built by build.sh) on this machine for the tests:
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler, containerd + runc and a kubelet, all
# bound to 127.0.0.1, with their state under $GUST_CLUSTER_DIR (default /var/tmp/gust-cluster).
# Pods sit on the bridge gust0 (10.88.0.0/16) with no default route: they reach the host at
# 10.88.0.1 and nothing else. Then imports the test images (images.sh) and writes
# $GUST_CLUSTER_DIR/env with the variables the cluster tests read.
# Safe to run again: running components are reused, missing ones started, images always refreshed.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
DIR=${GUST_CLUSTER_DIR:-/var/tmp/gust-cluster}
PKI=$DIR/pki
RUN=$DIR/run
LOGS=$DIR/logs
ETCD_PORT=12379 ETCD_PEER_PORT=12380 ETCD_METRICS_PORT=12381
API_PORT=16443 KUBELET_PORT=10250 KUBELET_HEALTHZ_PORT=10248
BRIDGE=gust0 SUBNET=10.88.0.0/16 HOST_IP=10.88.0.1 SERVICE_RANGE=10.96.0.0/16
NODE=localhost
SOCK=$DIR/containerd/containerd.sock
PAUSE_IMAGE=docker.io/gust-test/pause:1
SHELL_IMAGE=gust-test/shell:1
HELPER_IMAGE=gust-test/helper:dev

say() { printf '[cluster/up] %s\n' "$*" >&2; }
t0=$SECONDS
phase_start=$SECONDS
phase() { say "$1 ($((SECONDS - phase_start))s)"; phase_start=$SECONDS; }

# fail <component> <message>: explains why and shows the end of that component's log.
fail() {
  say "error: $2"
  if [ -f "$LOGS/$1.log" ]; then
    say "last lines of $LOGS/$1.log:"
    tail -n 25 "$LOGS/$1.log" | sed 's/^/    /' >&2
  fi
  exit 1
}

# wait_for <component> <seconds> <description> <command...>
wait_for() {
  local component=$1 limit=$2 what=$3 deadline=$((SECONDS + $2))
  shift 3
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then fail "$component" "$what: not within ${limit}s"; fi
    if [ -f "$RUN/$component.pid" ] && ! running "$component"; then fail "$component" "$component exited"; fi
    sleep 0.5
  done
}

# running <component>: its recorded process is alive and still that program (PIDs get reused).
running() {
  local pid
  pid=$(cat "$RUN/$1.pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/exe" ] || return 1
  [ "$(basename "$(readlink "/proc/$pid/exe")")" = "$(cat "$RUN/$1.exe" 2>/dev/null)" ]
}

# start <component> <program> <args...>: starts it detached unless it is already running.
start() {
  local component=$1 program=$2
  shift 2
  if running "$component"; then
    say "$component already running (pid $(cat "$RUN/$component.pid"))"
    return 0
  fi
  basename "$(readlink -f "$program")" >"$RUN/$component.exe"
  setsid nohup "$program" "$@" >>"$LOGS/$component.log" 2>&1 </dev/null &
  echo $! >"$RUN/$component.pid"
  say "started $component (pid $!)"
}

# There is no registry: a pull of an image that is not imported (a test of that failure, say) must
# fail at once and send nothing off the machine. containerd 1.6 always adds the registry's own host
# after any configured mirror, so its requests go to a proxy address where nothing listens.
# (Go never proxies loopback addresses; NO_PROXY keeps the pod and service ranges direct too.)
no_egress() {
  HTTPS_PROXY=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 https_proxy='' http_proxy='' \
    NO_PROXY="127.0.0.1,localhost,$SUBNET,$SERVICE_RANGE" no_proxy='' "$@"
}

api() { # api <path>: GET from the apiserver as admin
  curl -fsS --max-time 5 --cacert "$PKI/ca.crt" -H "Authorization: Bearer $(cat "$PKI/admin.token")" \
    "https://127.0.0.1:$API_PORT$1"
}

# --- binaries and packages ---
if [ -n "${GUST_KUBE_BIN:-}" ]; then
  BIN=$GUST_KUBE_BIN
else
  BIN=$(bash "$HERE/build.sh" | tail -n 1)
fi
export GUST_KUBE_BIN=$BIN
for b in kube-apiserver kubelet kube-scheduler kube-controller-manager pause; do
  [ -x "$BIN/$b" ] || fail build "$BIN/$b is missing: run test/cluster/build.sh"
done
phase "binaries in $BIN"

# State left by a cluster whose processes are all gone (killed at the end of a session, a reboot)
# still has mounts, containers and pods of a dead kubelet: start from clean instead.
if [ -d "$RUN" ]; then
  alive=0
  for c in etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet; do
    if running "$c"; then alive=1; fi
  done
  if [ "$alive" = 0 ]; then
    say "no component of the cluster in $DIR is running: removing its stale state first"
    bash "$HERE/down.sh"
  fi
fi

mkdir -p "$DIR" "$PKI" "$RUN" "$LOGS" "$DIR/etcd" "$DIR/containerd" "$DIR/cni/net.d" "$DIR/kubelet"
chmod 0700 "$DIR/etcd"

# --- certificates and tokens (made once) ---
if [ ! -f "$PKI/.complete" ]; then
  say "creating the CA, certificates and tokens in $PKI"
  (
    cd "$PKI"
    umask 077
    openssl genrsa -out ca.key 2048 2>/dev/null
    openssl req -x509 -new -key ca.key -subj /CN=gust-test-ca -days 3650 -out ca.crt
    # cert <name> <subject> <extensions>
    cert() {
      openssl genrsa -out "$1.key" 2048 2>/dev/null
      openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
      printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n%s\n' "$3" >"$1.ext"
      openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
        -extfile "$1.ext" -out "$1.crt" 2>/dev/null
      rm -f "$1.csr" "$1.ext"
    }
    cert apiserver /CN=kube-apiserver "extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
    cert kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "extendedKeyUsage=clientAuth"
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    openssl rand -hex 24 >admin.token
    openssl rand -hex 24 >kubelet.token
    printf '%s,admin,admin,"system:masters"\n%s,system:node:%s,kubelet,"system:nodes"\n' \
      "$(cat admin.token)" "$(cat kubelet.token)" "$NODE" >tokens.csv
    chmod 0644 ca.crt
  )
  touch "$PKI/.complete"
fi

# kubeconfig <file> <token>: a self-contained kubeconfig (CA embedded) for the local apiserver.
kubeconfig() {
  local tmp=$1.tmp
  cat >"$tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: gust-test
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority-data: $(base64 -w0 <"$PKI/ca.crt")
users:
- name: user
  user:
    token: $2
contexts:
- name: gust-test
  context: { cluster: gust-test, user: user, namespace: default }
current-context: gust-test
EOF
  chmod 0600 "$tmp" && mv "$tmp" "$1"
}
kubeconfig "$DIR/admin.kubeconfig" "$(cat "$PKI/admin.token")"
kubeconfig "$DIR/kubelet.kubeconfig" "$(cat "$PKI/kubelet.token")"

# --- network: the bridge carries the host's address so the CNI plugin never has to turn on
# forwarding (isGateway false), and pods get only the subnet route ---
ip link show "$BRIDGE" >/dev/null 2>&1 || ip link add "$BRIDGE" type bridge
ip -4 addr show dev "$BRIDGE" | grep -q " $HOST_IP/" || ip addr add "$HOST_IP/16" dev "$BRIDGE"
ip link set "$BRIDGE" up
cat >"$DIR/cni/net.d/10-gust.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "gust",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": false,
      "isDefaultGateway": false,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{ "subnet": "$SUBNET", "gateway": "$HOST_IP" }]],
        "dataDir": "$DIR/cni/ipam"
      }
    }
  ]
}
EOF

# --- etcd ---
start etcd /usr/bin/etcd --name gust --data-dir "$DIR/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster "gust=http://127.0.0.1:$ETCD_PEER_PORT" --listen-metrics-urls "http://127.0.0.1:$ETCD_METRICS_PORT" \
  --quota-backend-bytes=2147483648
wait_for etcd 60 "etcd healthy" curl -fsS --max-time 2 "http://127.0.0.1:$ETCD_PORT/health"
phase "etcd ready"

# --- control plane ---
start kube-apiserver "$BIN/kube-apiserver" --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
  --bind-address=127.0.0.1 --secure-port="$API_PORT" --insecure-port=0 --advertise-address=127.0.0.1 \
  --endpoint-reconciler-type=none --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
  --client-ca-file="$PKI/ca.crt" --token-auth-file="$PKI/tokens.csv" \
  --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction --allow-privileged=true \
  --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local --service-cluster-ip-range="$SERVICE_RANGE" \
  --kubelet-client-certificate="$PKI/kubelet-client.crt" --kubelet-client-key="$PKI/kubelet-client.key" \
  --kubelet-preferred-address-types=Hostname,InternalIP --profiling=false --event-ttl=1h
wait_for kube-apiserver 120 "kube-apiserver ready" api /readyz
phase "kube-apiserver ready"

start kube-controller-manager "$BIN/kube-controller-manager" --kubeconfig="$DIR/admin.kubeconfig" \
  --leader-elect=false --port=0 --secure-port=0 --bind-address=127.0.0.1 \
  --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
  --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
  --service-cluster-ip-range="$SERVICE_RANGE" --profiling=false
start kube-scheduler "$BIN/kube-scheduler" --kubeconfig="$DIR/admin.kubeconfig" \
  --leader-elect=false --port=0 --secure-port=0 --bind-address=127.0.0.1 --profiling=false

# --- containerd ---
cat >"$DIR/containerd/config.toml" <<EOF
version = 2
root = "$DIR/containerd/root"
state = "$DIR/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]

[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$DIR/containerd/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "$DIR/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # root here lacks CAP_SYS_RESOURCE: runc may not lower a container's OOM score
  restrict_oom_score_adj = true
  enable_selinux = false
  stream_server_address = "127.0.0.1"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "/usr/sbin/runc"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$DIR/cni/net.d"
    max_conf_num = 1
EOF
no_egress start containerd /usr/bin/containerd --config "$DIR/containerd/config.toml"
wait_for containerd 60 "containerd answering on $SOCK" ctr --address "$SOCK" version

# The sandbox image must be there before the kubelet creates its first pod sandbox.
bash "$HERE/images.sh"
phase "containerd ready, images imported"

# --- kubelet ---
cat >"$DIR/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: $KUBELET_PORT
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTHZ_PORT
readOnlyPort: 0
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: false }
  x509: { clientCAFile: "$PKI/ca.crt" }
# only clients with a certificate of this cluster's CA (the apiserver) reach it, on 127.0.0.1
authorization: { mode: AlwaysAllow }
cgroupDriver: cgroupfs
failSwapOn: false
oomScoreAdj: 0
makeIPTablesUtilChains: false
volumePluginDir: "$DIR/kubelet/volume-plugins"
evictionHard: { memory.available: "50Mi", nodefs.available: "1%", nodefs.inodesFree: "1%", imagefs.available: "1%" }
# the test images exist only locally: never garbage-collect them
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
clusterDomain: cluster.local
EOF
# Without this the kubelet's built-in ECR credential check calls a cloud metadata address.
export AWS_EC2_METADATA_DISABLED=true
no_egress start kubelet "$BIN/kubelet" \
  --config="$DIR/kubelet/config.yaml" --kubeconfig="$DIR/kubelet.kubeconfig" \
  --container-runtime=remote --container-runtime-endpoint="unix://$SOCK" --image-service-endpoint="unix://$SOCK" \
  --root-dir="$DIR/kubelet/root" --cert-dir="$DIR/kubelet/pki" --hostname-override="$NODE" \
  --pod-infra-container-image="$PAUSE_IMAGE" --v=1

node_ready() {
  api "/api/v1/nodes/$NODE" | jq -e '.status.conditions[] | select(.type == "Ready" and .status == "True")'
}
wait_for kubelet 180 "node $NODE Ready" node_ready
phase "node $NODE Ready"

# Pods are admitted only once the namespace's default service account has its token secret.
sa_ready() { api /api/v1/namespaces/default/serviceaccounts/default | jq -e '.secrets | length > 0'; }
wait_for kube-controller-manager 120 "service account default/default" sa_ready
phase "service account default ready"

cat >"$DIR/env.tmp" <<EOF
export GUST_TEST_KUBECONFIG=$DIR/admin.kubeconfig
export GUST_TEST_HOST_IP=$HOST_IP
export GUST_TEST_SHELL_IMAGE=$SHELL_IMAGE
export GUST_TEST_SERVICE_IMAGE=gust-test/service:1
export GUST_TEST_HELPER_IMAGE=$HELPER_IMAGE
EOF
mv "$DIR/env.tmp" "$DIR/env"
say "cluster up in $((SECONDS - t0))s; environment: source $DIR/env"
