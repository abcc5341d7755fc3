"""Template context shared by every page: the course roadmap."""

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .navigation import roadmap


def course(request: HttpRequest) -> dict[str, object]:
    """The roadmap, queried only if the template uses it, once per request; and
    whether pages reload themselves (development only: tutorials/livereload.py)."""
    return {
        "roadmap": SimpleLazyObject(lambda: roadmap(request)),
        "livereload": settings.DEBUG,
    }
