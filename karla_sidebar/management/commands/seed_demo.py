"""Create the demo workspace, its users and its two sandbox accounts. Idempotent; DEBUG only.

The accounts are connected through the same connect service an admin uses, so the demo
itself proves Connect works. The sandbox must be running (``make run`` starts it first).
With ``PUBLIC_BASE_URL`` set (``make run`` sets it), each account's webhook is registered at
the sandbox, again on every run (the sandbox keeps webhooks in memory only).
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts import services
from accounts.api_keys import PREFIX_LENGTH, api_key_authenticate, api_key_create
from accounts.errors import DuplicateAccount
from accounts.models import ApiKey, GoKarlaAccount, Membership, Workspace
from karla_sidebar.demo import DEMO_PASSWORD, DEMO_WORKSPACE
from karla_sidebar.gokarla import GoKarlaError

DEMO_SIDEBAR_SECRET = "demo-sidebar-secret"  # noqa: S105 (documented demo value)
DEMO_API_KEY = "karla_demo_api_key"  # documented demo value
DEMO_CONVERSATION_LINK = "http://localhost:8000/demo/conversation/?conversation={conversation}"
DEMO_USERS = {"admin": Membership.Role.ADMIN, "lead": Membership.Role.LEAD}
DEMO_ACCOUNTS = [
    ("Demo Shop", "demo-shop", "karla-demo-token"),
    ("Demo Outlet", "demo-outlet", "karla-outlet-token"),
]


class Command(BaseCommand):
    help = "Create the demo workspace, users admin/lead and the sandbox accounts (DEBUG only)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "The demo seed runs only with DEBUG on; it would create known logins."
            )
        if not settings.SANDBOX_ENABLED:
            raise CommandError("The demo needs the sandbox: set SANDBOX_ENABLED=1.")
        workspace, _ = Workspace.objects.update_or_create(
            slug=DEMO_WORKSPACE,
            # English by default, so that the labels the README names hold in the demo;
            # ?locale=de plays an agent whose ArminCX is in German.
            defaults={
                "name": "Demo Workspace",
                "sidebar_secret": DEMO_SIDEBAR_SECRET,
                "sidebar_language": "en",
                # The history links each conversation to the demo's ArminCX stand-in.
                "conversation_url_pattern": DEMO_CONVERSATION_LINK,
            },
        )
        User = get_user_model()
        for username, role in DEMO_USERS.items():
            user, _ = User.objects.get_or_create(username=username)
            user.set_password(DEMO_PASSWORD)
            user.save()
            Membership.objects.update_or_create(
                user=user, workspace=workspace, defaults={"role": role}
            )
        admin = User.objects.get(username="admin")
        for label, username, token in DEMO_ACCOUNTS:
            if GoKarlaAccount.objects.filter(
                workspace=workspace, url=settings.SANDBOX_URL, username=username
            ).exists():
                continue
            try:
                services.account_connect(
                    workspace=workspace,
                    url=settings.SANDBOX_URL,
                    username=username,
                    token=token,
                    label=label,
                    actor=admin,
                )
            except (GoKarlaError, DuplicateAccount) as error:
                raise CommandError(f"Could not connect {label}: {error.message}") from None
        default = GoKarlaAccount.objects.get(workspace=workspace, username="demo-shop")
        services.account_make_default(account=default)
        if settings.PUBLIC_BASE_URL:
            # The sandbox forgets its webhooks when it stops: register them again.
            for account in GoKarlaAccount.objects.filter(workspace=workspace):
                outcome = services.account_webhook_ensure(account=account, actor=admin)
                if not outcome.ok:
                    self.stderr.write(f"{account.label}: webhook not registered: {outcome.message}")
        if api_key_authenticate(key=DEMO_API_KEY) is None:  # first run, or revoked in the demo
            ApiKey.objects.filter(workspace=workspace, prefix=DEMO_API_KEY[:PREFIX_LENGTH]).delete()
            api_key_create(workspace=workspace, name="Demo workflow", actor=admin, key=DEMO_API_KEY)
        self.stdout.write(self.style.SUCCESS("Demo workspace ready."))
