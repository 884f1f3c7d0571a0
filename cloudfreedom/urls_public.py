"""The public schema's site: landing, signup, the portal, staff admin, the API."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

urlpatterns = [
    path("admin/", admin.site.urls),
    # Ours first: they replace or extend some of allauth's pages (signup makes a workspace).
    path("accounts/", include("apps.accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("app/", include("apps.portal.urls")),
    path("stripe/", include("djstripe.urls", namespace="djstripe")),
    path("api/", include("apps.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    path("", include("apps.website.urls")),
    path("", include("cloudfreedom.urls_common")),
]
