#!/usr/bin/env bash
# One entry point for a fresh machine: sets up what the gateway needs, then runs it or its tests.
#   ./manage.sh start   set up, create the example database, harvest the bundled examples and serve OAI-PMH on :8080
#   ./manage.sh test    set up, make sure PostgreSQL and Chromium are there, then run ruff and the whole test suite
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=.venv

setup() {
  if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "manage.sh: Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)" >&2
    exit 1
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    echo "manage.sh: creating $VENV" >&2
    "$PYTHON" -m venv "$VENV"
  fi
  # Reinstall only when the declared dependencies change.
  local stamp="$VENV/.installed" want
  want=$(sha256sum pyproject.toml | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "manage.sh: installing the gateway and its dependencies" >&2
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[test,bench]"
    echo "$want" > "$stamp"
  fi
}

ensure_postgres() {
  if command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432; then
    return 0
  fi
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    echo "manage.sh: starting PostgreSQL" >&2
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    for _ in $(seq 1 30); do
      pg_isready -q -h 127.0.0.1 -p 5432 && return 0
      sleep 1
    done
  fi
  echo "manage.sh: WARNING: no PostgreSQL server on 127.0.0.1:5432; PostgreSQL tests will be skipped" >&2
}

ensure_browser() {
  # The dashboard's browser tests drive Debian's headless Chromium through its chromedriver.
  if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    return 0
  fi
  local as_root=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      as_root="sudo -n"
    else
      echo "manage.sh: WARNING: chromium/chromium-driver missing and no root to install them; browser tests will be skipped" >&2
      return 0
    fi
  fi
  if command -v apt-get >/dev/null 2>&1; then
    echo "manage.sh: installing chromium and chromium-driver (Debian packages) for the browser tests" >&2
    $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium chromium-driver \
      || { $as_root apt-get update -q && $as_root env DEBIAN_FRONTEND=noninteractive \
             apt-get install -y --no-install-recommends chromium chromium-driver; } \
      || echo "manage.sh: WARNING: could not install chromium; browser tests will be skipped" >&2
  else
    echo "manage.sh: WARNING: no apt-get to install chromium; browser tests will be skipped" >&2
  fi
}

case "${1:-}" in
  start)
    shift
    setup
    "$VENV/bin/gateway" --config config/example.toml init
    exec "$VENV/bin/gateway" --config config/example.toml run "$@"
    ;;
  test)
    shift
    setup
    ensure_postgres
    ensure_browser
    "$VENV/bin/ruff" check gateway tests benchmarks
    exec "$VENV/bin/python" -m pytest "$@"
    ;;
  *)
    echo "usage: ./manage.sh start | test [pytest arguments]" >&2
    exit 2
    ;;
esac
