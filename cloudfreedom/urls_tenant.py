"""A tenant's own host (e.g. demo.localhost)."""

from django.urls import include, path

from apps.core import views as core_views

urlpatterns = [
    path("accounts/", include("allauth.urls")),
    path("", core_views.home, name="home"),
    path("", include("cloudfreedom.urls_common")),
]
