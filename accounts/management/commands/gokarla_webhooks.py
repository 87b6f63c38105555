"""Register (or delete) the app's webhook at GoKarla for accounts connected before::

    python manage.py gokarla_webhooks ensure [--account ID]
    python manage.py gokarla_webhooks remove [--account ID]

``ensure`` needs ``PUBLIC_BASE_URL``. Both are idempotent (run them again at will) and report
one line per account; the exit status is 1 when any account failed.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts import services
from accounts.listing import accounts_described
from accounts.models import GoKarlaAccount


class Command(BaseCommand):
    help = "Register (ensure) or delete (remove) the app's webhook at GoKarla, per account."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["ensure", "remove"])
        parser.add_argument("--account", type=int, help="only this account (its id)")

    def handle(self, *args, action: str, account: int | None, **options):
        if action == "ensure" and not settings.PUBLIC_BASE_URL:
            raise CommandError(
                "PUBLIC_BASE_URL is not set. Set it to the app's address as GoKarla reaches "
                "it (such as https://karla.example.com), then run this again.",
                returncode=2,
            )
        accounts = GoKarlaAccount.objects.select_related("workspace").order_by("id")
        if account is not None:
            accounts = accounts.filter(pk=account)
            if not accounts.exists():
                # The same exit code as sync_gokarla's for a bad option.
                raise CommandError(
                    f"No GoKarla account has the id {account}. {accounts_described()}",
                    returncode=2,
                )
        use_case = (
            services.account_webhook_ensure
            if action == "ensure"
            else services.account_webhook_remove
        )
        failed = 0
        for each in accounts:
            outcome = use_case(account=each)
            failed += not outcome.ok
            line = (
                f"{each.label} (account {each.pk}, workspace {each.workspace.slug}): "
                f"{outcome.message}"
            )
            self.stdout.write(self.style.SUCCESS(line) if outcome.ok else self.style.ERROR(line))
        if failed:
            raise CommandError(f"{failed} of {len(accounts)} accounts failed; see above.")
