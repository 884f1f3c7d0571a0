"""The /v1 routes. Served by the gateway ASGI handler (no page middleware on this path)."""

from django.urls import URLPattern, path, re_path

from apps.gateway import views

urlpatterns: list[URLPattern] = [
    path("v1/chat/completions", views.chat_completions),
    path("v1/messages", views.messages),
    path("v1/embeddings", views.embeddings_view),
    path("v1/models", views.models),
    # Model ids may contain slashes ("meta/llama-3"), as OpenAI-compatible servers allow.
    re_path(r"^v1/models/(?P<model>.+)$", views.model_detail),
    re_path(r"^v1/(?P<path>.*)$", views.not_found),
]
