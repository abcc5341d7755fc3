"""
The tests' own settings: the site's settings, with what a test run needs changed.

Static files: with the manifest that ``make collectstatic`` writes (``make test``
runs it), tests use the site's hashed storage, as production and the browser tests
do. Without it (a fresh clone running ``pytest tests/test_x.py``), plain storage, so
a page renders without ``collectstatic``; the browser tests then ask for it
(tests/browser.py).
"""

from config.settings import *  # noqa: F403
from config.settings import STATIC_ROOT, STORAGES

if not (STATIC_ROOT / "staticfiles.json").exists():
    STORAGES = {
        **STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
