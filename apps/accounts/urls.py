"""Account pages that replace or extend allauth's (included before allauth.urls)."""

urlpatterns: list = []
