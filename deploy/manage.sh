#!/bin/sh
# manage.py with the production environment, for the release steps and any other
# command an operator runs (docs/deploying.md):
#   sudo -u tutorial deploy/manage.sh migrate --noinput
# The environment file is /etc/tutorial/site.env unless TUTORIAL_ENV names another.
set -eu
set -a
. "${TUTORIAL_ENV:-/etc/tutorial/site.env}"
set +a
cd "$(dirname "$0")/.."
exec .venv/bin/python manage.py "$@"
