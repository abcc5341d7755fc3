"""The URL map. The tutorials app owns the catch-all lesson routes, so it goes last."""

from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView

from tutorials import livereload, metrics, views
from tutorials.sitemaps import SITEMAPS, robots_txt

# 503 with Retry-After while the database is unreachable, else Django's 500.
handler500 = "tutorials.errorpages.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", metrics.endpoint, name="metrics"),  # non-public: see tutorials/metrics.py
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("robots.txt", robots_txt, name="robots-txt"),
    # Browsers ask for /favicon.ico whatever the page says; answer with the real icon.
    path(
        "favicon.ico",
        RedirectView.as_view(url=lazy(static, str)("img/favicon.svg"), permanent=True),
    ),
    path("run/", include("tutorials.runner.urls")),
    path("exercises/", include("tutorials.exercises.urls")),
    path("__livereload__/events", livereload.events, name="livereload-events"),  # DEBUG only
    path("", include("tutorials.urls")),
]
