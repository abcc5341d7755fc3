"""Routes of the code runner; included at ``run/`` by config/urls.py."""

from django.urls import path, re_path

from . import views

app_name = "runner"

urlpatterns = [
    path("", views.run, name="run"),
    re_path(r"^jobs/(?P<job_id>[0-9a-f]{32})/$", views.job, name="job"),
    path("status/", views.status, name="status"),
]
