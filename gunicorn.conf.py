"""
gunicorn settings: ``gunicorn -c gunicorn.conf.py`` (the app is ``config.wsgi``).

Used by ``make serve``, the Dockerfile and ``make bench``. Each value can be
changed from the environment without editing this file: ``WEB_CONCURRENCY``
(worker processes, default two per CPU), ``GUNICORN_THREADS``, ``GUNICORN_BIND``,
``GUNICORN_TIMEOUT``, ``GUNICORN_ACCESS_LOG`` (a path, ``-`` for stdout, empty
for none: the default, since the site logs each request itself) and
``PROMETHEUS_MULTIPROC_DIR``; gunicorn's own ``GUNICORN_CMD_ARGS`` still wins
over all of them. docs/deploying.md has the whole list.
"""

import os
import shutil
from pathlib import Path


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
# seconds to finish in-flight requests on restart
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
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

# Logs: the site's line (timestamp, level, logger, request id; JSON with
# DJANGO_LOG_FORMAT=json) for gunicorn's own lines too. Each request's access
# line comes from the site (tutorials/requestlog.py), which knows the view; turn
# gunicorn's on with GUNICORN_ACCESS_LOG=- and it writes the same fields.
logger_class = "config.gunicornlog.Logger"
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "") or None
errorlog = "-"

# Metrics: every worker is a process, so prometheus_client keeps each one's
# values in files in PROMETHEUS_MULTIPROC_DIR and /metrics adds them up. One
# directory per gunicorn (by default var/prometheus/<bind address> in this
# checkout), emptied when it starts, before the app is loaded.
_metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or str(
    Path(__file__).resolve().parent / "var" / "prometheus" / bind[0].replace("/", "_")
)
if os.environ.get("TUTORIALS_METRICS_DIR_READY") != _metrics_dir:
    # Only the first time: a configuration reload (SIGHUP) must keep the counts.
    shutil.rmtree(_metrics_dir, ignore_errors=True)
    os.makedirs(_metrics_dir, exist_ok=True)
    os.environ["TUTORIALS_METRICS_DIR_READY"] = _metrics_dir
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir


def child_exit(server, worker):
    """A worker's live gauges (queue depth, warm pool) leave with it."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
