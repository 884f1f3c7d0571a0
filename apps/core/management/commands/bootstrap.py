from typing import Any

from django.core.management.base import BaseCommand

from apps.core.seed import bootstrap


class Command(BaseCommand):
    help = "Create the public tenant and the template schema new tenants are cloned from."

    def handle(self, *args: Any, **options: Any) -> None:
        done = bootstrap()
        self.stdout.write("Created: " + ", ".join(done) if done else "Already bootstrapped.")
