#!/usr/bin/env bash
# Sets up the etcd role (and user) the registrator runs as: readwrite on exactly the key prefixes
# its writers use, nothing else. See docs/security.md for which prefixes a configuration needs.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: etcd-role.sh [--endpoints LIST] [--role NAME] [--user NAME] PREFIX...

Gives role NAME (default: registrator) readwrite on each PREFIX, a key prefix that starts and ends
with "/" (e.g. /registry/), and revokes whatever else the role allowed. With a user (--user, or
EC_REGISTRATOR_ETCD_USER), that user is created if missing, with the password in
EC_REGISTRATOR_ETCD_PASSWORD (taken from the environment only, so it never shows in a process
list), and given the role.

etcd is reached as an administrator through etcdctl's own environment: ETCDCTL_ENDPOINTS (or
--endpoints), ETCDCTL_USER and ETCDCTL_PASSWORD (root, once authentication is on), and
ETCDCTL_CACERT, ETCDCTL_CERT, ETCDCTL_KEY for TLS.
EOF
}

fail() {
  echo "etcd-role.sh: $*" >&2
  exit 2
}

role=registrator
user=${EC_REGISTRATOR_ETCD_USER:-}
prefixes=()
while [ $# -gt 0 ]; do
  case "$1" in
    --endpoints) [ $# -ge 2 ] || fail "--endpoints needs a value"; export ETCDCTL_ENDPOINTS=$2; shift 2 ;;
    --role) [ $# -ge 2 ] || fail "--role needs a value"; role=$2; shift 2 ;;
    --user) [ $# -ge 2 ] || fail "--user needs a value"; user=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    --) shift; prefixes+=("$@"); break ;;
    -*) fail "unknown option $1 (see --help)" ;;
    *) prefixes+=("$1"); shift ;;
  esac
done
[ ${#prefixes[@]} -gt 0 ] || fail "no key prefix given (see --help)"
for prefix in "${prefixes[@]}"; do
  # A prefix without its closing slash would also grant /registry2/..., /registryx and so on.
  [[ "$prefix" == /*/ ]] || fail "key prefix \"$prefix\" must start and end with \"/\" (e.g. /registry/)"
done
[ -n "$role" ] || fail "--role must not be empty"
command -v etcdctl >/dev/null || fail "etcdctl not found"
export ETCDCTL_API=3

# endpoint status first: it gives up after --command-timeout, where role commands would wait for ever.
if ! out=$(etcdctl endpoint status 2>&1 >/dev/null) || ! out=$(etcdctl role list 2>&1 >/dev/null); then
  fail "cannot manage roles on etcd ${ETCDCTL_ENDPOINTS:-127.0.0.1:2379}: $(printf '%s\n' "$out" | tail -n 1)"
fi

# Checked before anything changes: a run that cannot finish changes nothing it can foresee.
create_user=false
if [ -n "$user" ] && ! etcdctl user get "$user" >/dev/null 2>&1; then
  [ -n "${EC_REGISTRATOR_ETCD_PASSWORD:-}" ] || fail "user $user does not exist; set EC_REGISTRATOR_ETCD_PASSWORD to create it"
  create_user=true
fi

if ! etcdctl role get "$role" >/dev/null 2>&1; then
  etcdctl role add "$role" >/dev/null
  echo "role $role created"
fi

# What the role allows now, as etcdctl prints it: "[start, end) (prefix P)", "[start, end)",
# "[start, <open ended>" or a bare key. Everything but the wanted prefixes is revoked.
wanted=" ${prefixes[*]} "
while IFS= read -r line; do
  line=${line#"${line%%[![:space:]]*}"}
  if [[ "$line" =~ ^\[.*\)\ \(prefix\ (.*)\)$ ]]; then
    granted=${BASH_REMATCH[1]}
    [[ "$wanted" == *" $granted "* ]] && continue
    etcdctl role revoke-permission "$role" --prefix=true "$granted" >/dev/null
    echo "role $role: revoked prefix $granted"
  elif [[ "$line" =~ ^\[(.*),\ \<open\ ended\>$ ]]; then
    etcdctl role revoke-permission "$role" --from-key "${BASH_REMATCH[1]}" >/dev/null
    echo "role $role: revoked keys from ${BASH_REMATCH[1]} on"
  elif [[ "$line" =~ ^\[(.*),\ (.*)\)$ ]]; then
    etcdctl role revoke-permission "$role" "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" >/dev/null
    echo "role $role: revoked range [${BASH_REMATCH[1]}, ${BASH_REMATCH[2]})"
  elif [ -n "$line" ]; then
    etcdctl role revoke-permission "$role" "$line" >/dev/null
    echo "role $role: revoked key $line"
  fi
done < <(etcdctl role get "$role" | sed -n '/^KV Read:/,$p' | grep -v '^KV ' | sort -u)

for prefix in "${prefixes[@]}"; do
  etcdctl role grant-permission "$role" --prefix=true readwrite "$prefix" >/dev/null
  echo "role $role: readwrite on prefix $prefix"
done

if [ -n "$user" ]; then
  if $create_user; then
    printf '%s\n' "$EC_REGISTRATOR_ETCD_PASSWORD" | etcdctl user add "$user" --interactive=false >/dev/null
    echo "user $user created"
  fi
  if ! etcdctl user get "$user" | grep -q "^Roles:.* $role\( \|$\)"; then
    etcdctl user grant-role "$user" "$role" >/dev/null
    echo "user $user: granted role $role"
  fi
fi
