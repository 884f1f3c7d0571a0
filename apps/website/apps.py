from django.apps import AppConfig


class WebsiteConfig(AppConfig):
    """The public website: landing, models, pricing and docs. Owns no tables."""

    name = "apps.website"
    label = "website"
