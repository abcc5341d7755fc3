"""WSGI entry point: ``gunicorn config.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

# Probe the code-sample sandbox and start this worker's warm pool in the background,
# so the first learner who presses Run does not wait for Django's imports.
from tutorials.runner import warm_up  # noqa: E402

warm_up()
