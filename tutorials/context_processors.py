"""Template context shared by every page: the course roadmap."""

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .navigation import roadmap


def course(request: HttpRequest) -> dict[str, SimpleLazyObject]:
    """The roadmap, queried only if the template uses it, once per request."""
    return {"roadmap": SimpleLazyObject(lambda: roadmap(request))}
