#!/bin/sh
# Installs what kmc needs on a fresh machine, and nothing that is already there:
#   - npm dependencies, including Node 24 (the `node` devDependency; the system Node may be older);
#   - Debian packages: openssl (cluster PKI), curl, mosquitto (the interop broker of the test suite);
#   - the Kubernetes control-plane binaries, and with --tests Helm, built once from the Go module proxy into
#     ~/.cache/kmc.
# Called by `npm run test:all` (with --tests), `npm run playground` and .ci/run; safe to run again.
set -eu
cd "$(dirname "$0")/.."

say() { printf '[bootstrap] %s\n' "$*" >&2; }

# npm dependencies: install when missing or when the lockfile changed since the last install.
if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies (npm ci)"
  # --loglevel=error: the system Node may be older than the engines fields say; the project brings Node 24.
  npm ci --no-audit --no-fund --loglevel=error
fi

# Debian packages.
missing=""
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
command -v curl >/dev/null 2>&1 || missing="$missing curl"
[ -x /usr/sbin/mosquitto ] || command -v mosquitto >/dev/null 2>&1 || missing="$missing mosquitto"
command -v setpriv >/dev/null 2>&1 || missing="$missing util-linux"
if [ -n "$missing" ]; then
  if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    say "missing:$missing — install them with apt-get (no root or sudo here)"; exit 1
  fi
  say "installing Debian packages:$missing"
  # The mosquitto package starts a system broker on port 1883; tests run their own on free ports, so
  # keep the package from starting services at all.
  policy=/usr/sbin/policy-rc.d
  created_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null && $sudo chmod +x "$policy" && created_policy=1
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >/dev/null
  [ -n "$created_policy" ] && $sudo rm -f "$policy"
fi

if ! command -v go >/dev/null 2>&1; then
  say "Go (1.24 or later) is needed to build the local Kubernetes control plane: https://go.dev/dl/"
  exit 1
fi

# Kubernetes binaries (a no-op when the cache has them; 15–30 minutes the first time on 2 cores).
./node_modules/.bin/node core/cluster/cluster-cli.ts build

# Helm, to render charts/kmc in the tests only (a no-op when cached; 10–15 minutes the first time on 2 cores):
# the playground does not need it.
if [ "${1:-}" = "--tests" ]; then
  ./node_modules/.bin/node scripts/helm.ts build >/dev/null
fi
