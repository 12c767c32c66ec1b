#!/bin/sh
# Make sure PostgreSQL server binaries (initdb, pg_ctl) exist; install Debian's
# `postgresql` package when we can (root with apt-get), else explain and fail.
set -eu
for dir in $(pg_config --bindir 2>/dev/null) /usr/lib/postgresql/*/bin; do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
        exit 0
    fi
done
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's postgresql package (server binaries for the embedded database)..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-contrib >/dev/null
    exit 0
fi
echo "error: PostgreSQL server binaries not found and cannot be installed automatically." >&2
echo "       Install them (Debian: sudo apt-get install postgresql), or set DATABASE_URL." >&2
exit 1
