"""The public website's pages (public schema only)."""

from django.urls import path

from apps.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
]
