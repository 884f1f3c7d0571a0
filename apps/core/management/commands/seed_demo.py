from typing import Any

from django.core.management.base import BaseCommand

from apps.core.seed import DEMO_ADMIN_EMAIL, seed_demo


class Command(BaseCommand):
    help = "Seed the demo (idempotent): staff superuser, two plans, mock models, demo tenant."

    def handle(self, *args: Any, **options: Any) -> None:
        result = seed_demo()
        if result.created:
            self.stdout.write("Seeded: " + ", ".join(result.created))
        else:
            self.stdout.write("Demo already seeded; nothing to do.")
        if result.admin_password:
            line = "=" * 64
            self.stdout.write(
                f"{line}\nStaff login (shown once): {DEMO_ADMIN_EMAIL} / {result.admin_password}\n"
                f"Admin: http://127.0.0.1:8000/admin/\n{line}"
            )
