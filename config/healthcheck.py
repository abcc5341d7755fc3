"""
The container's health check: exit 0 when ``/healthz`` answers 200, 1 otherwise.

Run by the Dockerfile's HEALTHCHECK inside the container (the slim image has no
curl). It asks gunicorn on its own port, under a host name the site accepts
(the first of ``DJANGO_ALLOWED_HOSTS``), so the check passes host validation the
way a load balancer's request would. Standard library only, and no Django: it
runs every few seconds.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

TIMEOUT = 4  # seconds; the HEALTHCHECK allows 5


def healthz_request(environ: dict[str, str]) -> urllib.request.Request:
    """The request to send: to gunicorn's port, with an allowed Host header."""
    bind = environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",")[0]
    port = bind.rpartition(":")[2] or "8000"
    hosts = [h.strip() for h in environ.get("DJANGO_ALLOWED_HOSTS", "").split(",") if h.strip()]
    host = hosts[0].lstrip(".") if hosts and hosts[0] != "*" else "localhost"
    return urllib.request.Request(f"http://127.0.0.1:{port}/healthz", headers={"Host": host})


def main() -> int:
    try:
        with urllib.request.urlopen(healthz_request(dict(os.environ)), timeout=TIMEOUT) as response:
            healthy = response.status == 200
    except (urllib.error.URLError, OSError) as error:
        print(f"unhealthy: {error}", file=sys.stderr)
        return 1
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
