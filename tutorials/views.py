"""Thin views: the roadmap comes from navigation, lesson HTML is stored rendered."""

from django.conf import settings
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from .models import Tutorial
from .navigation import LessonLink, SectionEntry, roadmap
from .pagecache import cacheable_page
from .source import highlighted_source


@require_safe
@cacheable_page
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "tutorials/home.html")


@require_safe
@cacheable_page
def section(request: HttpRequest, section: str) -> HttpResponse:
    entry = roadmap(request).section(section)
    if entry is None:
        raise Http404("No such section.")
    return render(
        request,
        "tutorials/section.html",
        {"section": entry, "current_section_slug": entry.slug},
    )


@require_safe
@cacheable_page  # the same for every visitor: no CSRF cookie here, see csrf_token()
def lesson(request: HttpRequest, section: str, slug: str) -> HttpResponse:
    course = roadmap(request)
    link = course.find(section, slug)
    if link is None:
        return draft_lesson(request, section, slug)
    tutorial = Tutorial.objects.only(
        "title", "summary", "body_html", "toc", "references", "reading_minutes",
        "updated_at", "search_indexed_at", "search_indexed_by", "source_path",
        "source_updated_at",
    ).get(pk=link.id)  # fmt: skip
    previous, following = course.neighbours(link)
    context = {
        "tutorial": tutorial,
        "link": link,
        "section": course.section(section),
        "previous": previous,
        "next": following,
        "current_section_slug": section,
        "edit_url": edit_url(tutorial),
    }
    return render(request, "tutorials/lesson.html", context)


def edit_url(tutorial: Tutorial) -> str:
    """Where an author edits the lesson's file (``CONTENT_EDIT_URL``), or "" when unset."""
    template = getattr(settings, "CONTENT_EDIT_URL", "")
    return template.format(path=tutorial.source_path) if template and tutorial.source_path else ""


def can_preview_drafts(request: HttpRequest) -> bool:
    """Authors see drafts: everyone in development, staff users in production."""
    return settings.DEBUG or getattr(request, "user", None) is not None and request.user.is_staff


def draft_lesson(request: HttpRequest, section: str, slug: str) -> HttpResponse:
    """
    A draft (or a scheduled lesson not yet due) at its future URL, for authors only,
    with a banner. It is in no listing, and never stored by any cache.
    """
    tutorial = (
        Tutorial.objects.filter(section__slug=section, slug=slug, published=False)
        .select_related("section")
        .first()
    )
    if tutorial is None or not can_preview_drafts(request):
        raise Http404("No such lesson.")
    link = LessonLink(
        tutorial.pk, tutorial.title, tutorial.slug, tutorial.summary, section,
        tutorial.section.title, request.path, position=0,
    )  # fmt: skip
    context = {
        "tutorial": tutorial,
        "link": link,
        "section": SectionEntry(
            tutorial.section.pk,
            tutorial.section.title,
            section,
            tutorial.section.description,
            tutorial.section.get_absolute_url(),
        ),  # fmt: skip
        "previous": None,
        "next": None,
        "current_section_slug": section,
        "edit_url": edit_url(tutorial),
        "draft": True,
    }
    response = render(request, "tutorials/lesson.html", context)
    add_never_cache_headers(response)
    patch_cache_control(response, private=True, no_store=True)
    return response


@require_safe
def signals_source(request: HttpRequest) -> HttpResponse:
    """The site's own receivers, shown to learners as a worked example."""
    return render(request, "tutorials/source.html", highlighted_source("signals"))


@never_cache
@require_safe
def csrf_token(request: HttpRequest) -> JsonResponse:
    """
    A CSRF token for scripts on cached pages (the code runner), which cannot
    carry a per-visitor token. Also sets the ``csrftoken`` cookie it matches.
    """
    return JsonResponse({"token": get_token(request)})


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers, 503 (no traceback) when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any database failure means unhealthy, not a 500
        return JsonResponse({"status": "unavailable", "database": "error"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})
