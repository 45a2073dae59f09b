#!/bin/sh
# The database password never goes into a URL, argv or the image: libpq reads PGPASSWORD, which we
# load from a mounted secret file when PGPASSWORD_FILE is set (compose secrets, Kubernetes secrets).
set -e
if [ -n "${PGPASSWORD_FILE:-}" ] && [ -z "${PGPASSWORD:-}" ]; then
    PGPASSWORD="$(cat "$PGPASSWORD_FILE")"
    export PGPASSWORD
fi
exec "$@"
