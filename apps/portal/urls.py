"""The customer portal, under /app/ on the public site and on a workspace's own host."""

app_name = "portal"

urlpatterns: list = []
