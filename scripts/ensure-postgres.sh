#!/usr/bin/env bash
# Make sure PostgreSQL server binaries are available; print their bin directory.
#
# Idempotent: if a usable bin dir (initdb, pg_ctl, postgres, pg_isready, psql)
# is already present -- via PATH or /usr/lib/postgresql/*/bin -- nothing is
# installed. Otherwise the Debian `postgresql` package is installed with apt.
# The distribution's own cluster service is kept from starting during the
# install (policy-rc.d); the test harness runs its own throwaway clusters.
#
# stdout: exactly one line, the bin dir. Diagnostics go to stderr.
set -euo pipefail

REQUIRED=(initdb pg_ctl postgres pg_isready psql)

log() { printf 'ensure-postgres: %s\n' "$*" >&2; }

has_all() {
    local dir=$1 tool
    for tool in "${REQUIRED[@]}"; do
        [[ -x "$dir/$tool" ]] || return 1
    done
}

find_bin_dir() {
    local candidate dir
    if [[ -n "${SWITCHBOARD_PG_BIN:-}" ]] && has_all "$SWITCHBOARD_PG_BIN"; then
        printf '%s\n' "$SWITCHBOARD_PG_BIN"
        return 0
    fi
    # initdb on PATH (possibly a symlink, e.g. /usr/local/bin/initdb): use the
    # directory it really lives in, where the server binaries sit beside it.
    if candidate=$(command -v initdb 2>/dev/null); then
        dir=$(dirname "$(readlink -f "$candidate")")
        if has_all "$dir"; then
            printf '%s\n' "$dir"
            return 0
        fi
    fi
    # Debian layout; newest major version first.
    while IFS= read -r dir; do
        [[ -n "$dir" ]] || continue
        if has_all "$dir"; then
            printf '%s\n' "$dir"
            return 0
        fi
    done < <(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4,4 -V -r)
    return 1
}

if bin_dir=$(find_bin_dir); then
    printf '%s\n' "$bin_dir"
    exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
    log "PostgreSQL binaries not found and not root: cannot apt-get install postgresql"
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    log "PostgreSQL binaries not found and apt-get is unavailable"
    exit 1
fi

log "PostgreSQL binaries not found; installing the 'postgresql' package with apt"

# Keep the package's maintainer scripts from starting the distribution
# cluster. Only add a policy-rc.d if none exists, and remove only our own.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\n# temporary, added by switchboard scripts/ensure-postgres.sh\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    created_policy=1
fi
cleanup() {
    if [[ $created_policy -eq 1 ]]; then rm -f "$policy"; fi
}
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
apt-get update >&2
apt-get install -y --no-install-recommends postgresql >&2

if bin_dir=$(find_bin_dir); then
    printf '%s\n' "$bin_dir"
    exit 0
fi
log "installed 'postgresql' but still found no bin dir with: ${REQUIRED[*]}"
exit 1
