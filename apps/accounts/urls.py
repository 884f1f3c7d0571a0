"""Account pages that replace or extend allauth's (included before allauth.urls)."""

from django.urls import path

from apps.accounts import views

urlpatterns = [
    # Same path and name as allauth's: this one also creates the user's workspace.
    path("signup/", views.signup, name="account_signup"),
]
