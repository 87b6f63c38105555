"""Re-encrypt every stored secret under the first key of FIELD_ENCRYPTION_KEY.

Rotation: put the new key first and keep the old one after it
(``FIELD_ENCRYPTION_KEY=new,old``), run this command, then drop the old key. Running it
again is harmless: every row is simply written under the first key once more.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.fields import UNDECRYPTABLE
from accounts.models import GoKarlaAccount, Workspace

SECRET_FIELDS = {
    GoKarlaAccount: ["api_token", "webhook_secret"],
    Workspace: ["sidebar_secret", "previous_sidebar_secret"],
}


class Command(BaseCommand):
    help = "Re-save every encrypted secret under the first FIELD_ENCRYPTION_KEY (idempotent)."

    def handle(self, *args, **options):
        unreadable = []
        rewritten = 0
        with transaction.atomic():
            for model, fields in SECRET_FIELDS.items():
                for row in model.objects.select_for_update().order_by("pk"):
                    if any(getattr(row, name) is UNDECRYPTABLE for name in fields):
                        unreadable.append(f"{model.__name__} {row.pk} ({row})")
                        continue
                    row.save(update_fields=fields)
                    rewritten += 1
        self.stdout.write(f"Re-encrypted {rewritten} rows under the first key.")
        if unreadable:
            raise CommandError(
                "These rows could not be decrypted with any configured key and were left as "
                "they are (add the missing old key, or enter their secrets again): "
                + ", ".join(unreadable)
            )
