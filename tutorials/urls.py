from django.urls import path

from . import views

app_name = "tutorials"

urlpatterns = [
    path("", views.home, name="home"),
    path("source/signals/", views.signals_source, name="source-signals"),
    path("<slug:section>/", views.section, name="section"),
    path("<slug:section>/<slug:slug>/", views.lesson, name="lesson"),
]
