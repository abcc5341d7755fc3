#!/usr/bin/env bash
# The operator's sequence from docs/deploying.md, with the real services: an
# environment file, the release steps on PostgreSQL and Redis, the first admin
# without a terminal, two gunicorn instances on 127.0.0.1 behind nginx running
# deploy/nginx/balancer.conf; then tests/deploy/check.py (login, a cross-instance
# edit, request ids, metrics, the throttle) and a backup restored into a fresh
# database (same course, search results and redirects). Everything it starts is
# stopped by PID on exit. `make test-deploy` runs it; .ci/run calls that.
#
# Overridable: DEPLOY_DB, DEPLOY_RESTORE_DB, DEPLOY_PGHOST, DEPLOY_PGUSER,
# DEPLOY_REDIS, DEPLOY_PORTS ("instance A, instance B, balancer").
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
PY=$ROOT/.venv/bin/python
DB=${DEPLOY_DB:-test_deploy}
RESTORE_DB=${DEPLOY_RESTORE_DB:-test_deploy_restore}
PGHOST=${DEPLOY_PGHOST:-127.0.0.1}
PGUSER=${DEPLOY_PGUSER:-postgres}
REDIS=${DEPLOY_REDIS:-redis://127.0.0.1:6379/1}  # flushed first
read -r PORT_A PORT_B PORT_LB <<<"${DEPLOY_PORTS:-8181 8182 8188}"
HOST=127.0.0.1:$PORT_LB
LESSON_SLUG=signals-home
LESSON_URL=/django-signals/signals-home/

RUN=$(mktemp -d /tmp/test-deploy.XXXXXX)
chmod 755 "$RUN"  # nginx's workers (nobody) read and write under it
PIDS=()
started=$(date +%s)

say() { printf '\n== %s (%ss)\n' "$*" "$(($(date +%s) - started))"; }

stop_all() {
  local status=$?
  # Newest first: the balancer lets go of its keep-alive connections, then
  # each gunicorn finishes its requests and exits (TERM is a graceful stop).
  local i pid
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    pid=${PIDS[i]}
    kill -TERM "$pid" 2>/dev/null || continue
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ "$status" -ne 0 ]; then
    echo "test-deploy FAILED; logs kept in $RUN:" >&2
    tail -n 20 "$RUN"/*.log >&2 || true
  else
    rm -rf "$RUN"
  fi
}
trap stop_all EXIT

wait_for() {  # wait_for URL HOST-HEADER: until it answers 200, at most 30 s
  for _ in $(seq 300); do
    if curl -sf -o /dev/null -H "Host: $2" "$1"; then return 0; fi
    sleep 0.1
  done
  echo "$1 did not answer" >&2
  return 1
}

say "Environment file (config/production.env.example, filled in)"
# The docs' file, with this test's values: plain HTTP on loopback, so no HTTPS
# redirect, HSTS or Secure cookies here (a real site keeps them on).
sed -e "s|^DJANGO_SECRET_KEY=.*|DJANGO_SECRET_KEY=$($PY -c 'import secrets; print(secrets.token_urlsafe(50))')|" \
    -e "s|^DJANGO_ALLOWED_HOSTS=.*|DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost|" \
    -e "s|^DJANGO_CSRF_TRUSTED_ORIGINS=.*|DJANGO_CSRF_TRUSTED_ORIGINS=http://$HOST|" \
    -e "s|^DATABASE_URL=.*|DATABASE_URL=postgres://$PGUSER@$PGHOST:5432/$DB|" \
    -e "s|^CACHE_URL=.*|CACHE_URL=$REDIS|" \
    config/production.env.example >"$RUN/site.env"
cat >>"$RUN/site.env" <<EOF
DJANGO_SECURE_SSL_REDIRECT=0
DJANGO_SECURE_HSTS_SECONDS=0
DJANGO_SECURE_COOKIES=0
DJANGO_LOG_FORMAT=json
RUNNER_POOL_SIZE=0
RUNNER_LOCK_DIR=$RUN/runner-locks
WEB_CONCURRENCY=2
GUNICORN_THREADS=4
EOF
export TUTORIAL_ENV=$RUN/site.env  # what deploy/manage.sh reads
set -a
# shellcheck disable=SC1091
. "$RUN/site.env"
set +a
redis-cli -u "$REDIS" flushdb >/dev/null

say "Fresh database $DB"
dropdb -h "$PGHOST" -U "$PGUSER" --if-exists "$DB"
createdb -h "$PGHOST" -U "$PGUSER" "$DB"

say "Release: migrate, collectstatic, sync_content, check --deploy"
deploy/manage.sh migrate --noinput --verbosity 0
deploy/manage.sh collectstatic --noinput --verbosity 0
deploy/manage.sh sync_content
# Plain HTTP here: the HTTPS warnings are expected, errors are not.
deploy/manage.sh check --deploy --fail-level ERROR 2>&1 | grep -v "^?: (security.W0"

say "First admin, without a terminal"
ADMIN_PASSWORD=$($PY -c 'import secrets; print(secrets.token_urlsafe(16))')
DJANGO_SUPERUSER_USERNAME=admin DJANGO_SUPERUSER_EMAIL=admin@example.com \
  DJANGO_SUPERUSER_PASSWORD=$ADMIN_PASSWORD deploy/manage.sh createsuperuser --noinput

say "Two instances on 127.0.0.1:$PORT_A and :$PORT_B"
for port in "$PORT_A" "$PORT_B"; do
  GUNICORN_BIND=127.0.0.1:$port PROMETHEUS_MULTIPROC_DIR=$RUN/prometheus-$port \
    "$ROOT/.venv/bin/gunicorn" --config gunicorn.conf.py >"$RUN/instance-$port.log" 2>&1 &
  PIDS+=($!)
done

say "nginx with deploy/nginx/balancer.conf on 127.0.0.1:$PORT_LB"
mkdir -p "$RUN/nginx"
chmod 777 "$RUN/nginx"
sed -e "s|listen 80;|listen 127.0.0.1:$PORT_LB;|" \
    -e "s|127.0.0.1:8001|127.0.0.1:$PORT_A|" \
    -e "s|127.0.0.1:8002|127.0.0.1:$PORT_B|" \
    -e "s|/var/log/nginx/tutorial.access.log|$RUN/nginx-access.log|" \
    deploy/nginx/balancer.conf >"$RUN/balancer.conf"
cat >"$RUN/nginx.conf" <<EOF
worker_processes 1;
pid $RUN/nginx.pid;
error_log $RUN/nginx-error.log warn;
events { worker_connections 256; }
http {
    client_body_temp_path $RUN/nginx/body;
    proxy_temp_path $RUN/nginx/proxy;
    fastcgi_temp_path $RUN/nginx/fastcgi;
    uwsgi_temp_path $RUN/nginx/uwsgi;
    scgi_temp_path $RUN/nginx/scgi;
    include $RUN/balancer.conf;
}
EOF
nginx -t -q -p "$RUN" -c "$RUN/nginx.conf"
nginx -p "$RUN" -c "$RUN/nginx.conf" -g 'daemon off;' &
PIDS+=($!)

wait_for "http://127.0.0.1:$PORT_A/healthz" "$HOST"
wait_for "http://127.0.0.1:$PORT_B/healthz" "$HOST"
wait_for "http://$HOST/healthz" "$HOST"

say "Checks through the balancer and on the instances"
LESSON_ID=$(deploy/manage.sh shell --verbosity 0 -c \
  "from tutorials.models import Tutorial; print(Tutorial.objects.get(slug='$LESSON_SLUG').pk)")
$PY tests/deploy/check.py --balancer "http://$HOST" \
  --instance "http://127.0.0.1:$PORT_A" --instance "http://127.0.0.1:$PORT_B" \
  --host "$HOST" --username admin --password "$ADMIN_PASSWORD" \
  --lesson-id "$LESSON_ID" --lesson-url "$LESSON_URL" \
  --log "$RUN/instance-$PORT_A.log" --log "$RUN/instance-$PORT_B.log"

say "Backup (pg_dump -Fc) and restore into a fresh database $RESTORE_DB"
pg_dump -h "$PGHOST" -U "$PGUSER" -Fc -f "$RUN/site.dump" "$DB"
$PY tests/deploy/snapshot.py >"$RUN/before.json"
dropdb -h "$PGHOST" -U "$PGUSER" --if-exists "$RESTORE_DB"
createdb -h "$PGHOST" -U "$PGUSER" "$RESTORE_DB"
pg_restore -h "$PGHOST" -U "$PGUSER" --no-owner --exit-on-error -d "$RESTORE_DB" "$RUN/site.dump"
sed "s|^DATABASE_URL=.*|DATABASE_URL=postgres://$PGUSER@$PGHOST:5432/$RESTORE_DB|" \
  "$RUN/site.env" >"$RUN/restore.env"
export TUTORIAL_ENV=$RUN/restore.env DATABASE_URL=postgres://$PGUSER@$PGHOST:5432/$RESTORE_DB
deploy/manage.sh migrate --noinput --verbosity 0  # nothing to do unless the code is newer
deploy/manage.sh rebuild_search_index
deploy/manage.sh sync_content  # the files did not change: nothing to do, admin edits kept
$PY tests/deploy/snapshot.py >"$RUN/after.json"
if ! diff -u "$RUN/before.json" "$RUN/after.json"; then
  echo "the restored database differs from the original" >&2
  exit 1
fi
echo "ok: the restored database has the same course, search results and redirects"
dropdb -h "$PGHOST" -U "$PGUSER" "$RESTORE_DB"

say "test-deploy passed"
