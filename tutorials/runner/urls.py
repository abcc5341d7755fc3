"""Routes of the code runner; included at ``run/`` by config/urls.py."""

from django.urls import path

from . import views

app_name = "runner"

urlpatterns = [
    path("", views.run, name="run"),
    path("status/", views.status, name="status"),
]
