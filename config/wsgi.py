"""WSGI entry point: ``gunicorn config.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

# Probe the code-sample sandbox and start this worker's warm pool in the background,
# so the first learner who presses Run does not wait for Django's imports. Under
# gunicorn the master imports this module (preload_app) and must hold no sandboxes:
# gunicorn.conf.py's post_fork hook warms each worker up instead.
from tutorials.runner import warm_up  # noqa: E402

if not os.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn/"):
    warm_up()
