#!/usr/bin/env bash
# What the test suite needs from the operating system, installed with Debian's apt when it is
# missing: chromium for the browser tests, and pg_dump/psql (postgresql-client) when the suite
# runs against PostgreSQL (flask backup/restore). Called by `make test`; safe to run again.
set -euo pipefail

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
if [[ "${DATABASE_URL:-}" == postgresql* ]] && ! command -v pg_dump >/dev/null 2>&1; then
  need+=(postgresql-client)
fi
[ ${#need[@]} -eq 0 ] && exit 0

echo "Installing Debian packages the tests need: ${need[*]}"
if [ "$(id -u)" -eq 0 ]; then
  apt=(apt-get)
elif command -v sudo >/dev/null 2>&1; then
  apt=(sudo apt-get)
else
  echo "Cannot install ${need[*]}: run as root, or run: apt-get install ${need[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${apt[@]}" update -qq
"${apt[@]}" install -y -qq "${need[@]}" >/dev/null
echo "Installed: ${need[*]}"
