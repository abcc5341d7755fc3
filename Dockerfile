# The site as a container image: gunicorn serving Django and its static files.
#
#   docker build -t signals-tutorial .
#   docker run --rm --env-file site.env signals-tutorial \
#       sh -c 'python manage.py migrate --noinput && python manage.py sync_content'   # release
#   docker run -d --env-file site.env -p 127.0.0.1:8000:8000 signals-tutorial          # serve
#
# docs/deploying.md explains the environment (config/production.env.example) and
# running several containers behind a load balancer (publish them on a private
# interface only: the balancer is the one way in). The build runs the same Makefile
# targets as CI (install, collectstatic, check), so what the image does is tested.
# Nothing secret is baked in: settings come from the environment at run time.

# --- build: a virtualenv with the runtime requirements, collected static files ------
FROM python:3.11-slim AS build

ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends make \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app

# Requirements first, so a code change does not reinstall them.
COPY requirements.txt Makefile ./
RUN make install

COPY . .
# DEBUG is on during the build (no secret key exists here); `check` migrates a
# throwaway SQLite file and validates content/, running every code sample.
RUN make collectstatic check \
    && python -m compileall -q config tutorials

# --- runtime: the virtualenv and the code, run as an unprivileged user ---------------
FROM python:3.11-slim AS runtime

# bubblewrap sandboxes the code samples learners run (README: "Runnable code samples").
RUN apt-get update \
    && apt-get install -y --no-install-recommends bubblewrap \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home app \
    && mkdir /data \
    && chown app:app /data

ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_DEBUG=0 \
    DJANGO_CACHE_DIR=/tmp/django-cache \
    RUNNER_LOCK_DIR=/tmp/runner-locks \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus \
    DATABASE_URL=sqlite:////data/db.sqlite3 \
    GUNICORN_BIND=0.0.0.0:8000

WORKDIR /app
# Code and assets stay owned by root: the app can read them, not change them.
COPY --from=build /app/.venv .venv
COPY --from=build /app/staticfiles staticfiles
COPY --from=build /app/manage.py /app/gunicorn.conf.py ./
COPY --from=build /app/config config
COPY --from=build /app/tutorials tutorials
COPY --from=build /app/templates templates
COPY --from=build /app/static static
COPY --from=build /app/content content

USER 10001:10001
# SQLite lives here when DATABASE_URL is not PostgreSQL.
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "config/healthcheck.py"]

CMD ["gunicorn", "--config", "gunicorn.conf.py"]
