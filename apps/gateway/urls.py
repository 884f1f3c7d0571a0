"""The /v1 routes. Served by the gateway ASGI handler (no page middleware on this path)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
