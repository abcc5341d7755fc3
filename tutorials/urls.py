from django.urls import path

from . import views
from .search import views as search_views

app_name = "tutorials"

urlpatterns = [
    path("", views.home, name="home"),
    path("source/signals/", views.signals_source, name="source-signals"),
    path("csrf-token/", views.csrf_token, name="csrf-token"),
    path("search/", search_views.search_page, name="search"),
    path("search.json", search_views.search_json, name="search-json"),
    path("<slug:section>/", views.section, name="section"),
    path("<slug:section>/<slug:slug>/", views.lesson, name="lesson"),
]
