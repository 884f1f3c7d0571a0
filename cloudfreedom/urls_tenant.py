"""A tenant's own host (e.g. demo.localhost): its members' portal."""

from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("accounts/", include("apps.accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("app/", include("apps.portal.urls")),
    path("", RedirectView.as_view(url="/app/", permanent=False), name="home"),
    path("", include("cloudfreedom.urls_common")),
]
