"""The public website's pages (public schema only)."""

from django.urls import path

from apps.website import views

urlpatterns = [
    path("", views.home, name="home"),
    path("models/", views.models, name="models"),
    path("models.json", views.models_json, name="models_json"),
    path("pricing/", views.pricing, name="pricing"),
    path("docs/", views.docs, name="docs"),
]
