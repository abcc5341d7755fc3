"""Routes of the exercises; included at ``exercises/`` by config/urls.py."""

from django.urls import path

from . import views

app_name = "exercises"

urlpatterns = [
    path("<slug:lesson>/<slug:key>/solution/", views.solution, name="solution"),
]
