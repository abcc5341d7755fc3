"""The URL map. The tutorials app owns the catch-all lesson routes, so it goes last."""

from django.contrib import admin
from django.urls import include, path

from tutorials import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    path("", include("tutorials.urls")),
]
