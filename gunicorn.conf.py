"""
gunicorn settings: ``gunicorn -c gunicorn.conf.py`` (the app is ``config.wsgi``).

Used by ``make serve``, the Dockerfile and ``make bench``. Each value can be
changed from the environment without editing this file: ``WEB_CONCURRENCY``
(worker processes, default two per CPU), ``GUNICORN_THREADS``, ``GUNICORN_BIND``,
``GUNICORN_TIMEOUT`` and ``GUNICORN_ACCESS_LOG`` (a path, ``-`` for stdout, empty
for none); gunicorn's own ``GUNICORN_CMD_ARGS`` still wins over all of them.
"""

import os


def _cpu_count() -> int:
    # The CPUs this process may run on (a container's cpuset), not the host's.
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


wsgi_app = "config.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",")

# Two worker processes per CPU, each with a few threads. A cached page costs well
# under a millisecond of Python, so the processes keep the cores busy while one of
# them waits on the GIL or the network; the threads cover slow requests (an admin
# save, a code-sample run) without holding up the pages. gthread also keeps
# connections alive between requests, which sync workers do not.
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * _cpu_count())
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))

# Load Django once in the master and fork: faster worker restarts, shared memory.
preload_app = True

timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))  # seconds a request may take
graceful_timeout = 30  # seconds to finish in-flight requests on restart
keepalive = 5  # seconds an idle connection is kept open

# Recycle each worker after this many requests (jittered so they don't all restart
# at once) to bound the damage of any slow leak. Not much more often: a new worker
# starts with an empty page cache, and its first request for each page renders it.
max_requests = 50_000
max_requests_jitter = 5_000

# Refuse oversized requests before Django sees them (bytes); Django's own
# REQUEST_MAX_URL_LENGTH and DATA_UPLOAD_MAX_MEMORY_SIZE apply to what passes.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

# gunicorn's control socket (for gunicornc) is not used; by default every gunicorn
# of a user would share one path.
control_socket_disable = True

accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'


def post_fork(server, worker):
    """Each worker builds its own warm pool of code-sample sandboxes after the fork
    (the master, which loaded the app for preload_app, holds none), so the first
    run a fresh worker serves is warm. See tutorials/runner/__init__.py."""
    from tutorials.runner import warm_up

    warm_up()
