from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The customer portal: a workspace's dashboard, keys and billing pages. Owns no tables."""

    name = "apps.portal"
    label = "portal"
