"""
What search engines are told: ``sitemap.xml`` lists the home page, every section
with a published lesson and every published lesson; ``robots.txt`` points to it
and keeps crawlers out of the admin and the search results.
"""

from __future__ import annotations

from django.contrib.sitemaps import Sitemap
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_safe

from .models import Section, Tutorial


class HomeSitemap(Sitemap):
    priority = 1.0
    changefreq = "weekly"

    def items(self) -> list[str]:
        return ["tutorials:home"]

    def location(self, item: str) -> str:
        return reverse(item)


class SectionSitemap(Sitemap):
    priority = 0.6
    changefreq = "weekly"

    def items(self):
        return Section.objects.with_published_lessons()


class LessonSitemap(Sitemap):
    priority = 0.8
    changefreq = "monthly"

    def items(self):
        return (
            Tutorial.objects.published()
            .in_roadmap_order()
            .only("slug", "updated_at", "section__slug")
        )

    def lastmod(self, item: Tutorial):
        return item.updated_at


SITEMAPS = {"home": HomeSitemap, "sections": SectionSitemap, "lessons": LessonSitemap}


@require_safe
def robots_txt(request: HttpRequest) -> HttpResponse:
    """Allow everything but the admin and search results; name the sitemap."""
    sitemap_url = request.build_absolute_uri(reverse("sitemap"))
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /search/",
        "",
        f"Sitemap: {sitemap_url}",
        "",
    ]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")
