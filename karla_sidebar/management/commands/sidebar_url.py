"""Print a fresh sidebar launch URL, signed as ArminCX would sign it.

    python manage.py sidebar_url --workspace demo --agent a-1 --name "Ada Agent" \\
        [--conversation c-42] [--customer-email jane@example.com] [--email ada@example.com] \\
        [--tz Europe/Berlin] [--locale de] [--base-url http://127.0.0.1:8000] [--ttl 300]

The token works once and expires after ``--ttl`` seconds (at most 600).
"""

from urllib.parse import urlencode

from django.core.management.base import BaseCommand, CommandError
from django.urls import NoReverseMatch, reverse

from accounts.models import Workspace
from karla_sidebar.armincx import launch_token_mint
from karla_sidebar.launch import MAX_LIFETIME_SECONDS

DEFAULT_BASE_URL = "http://127.0.0.1:8000"


class Command(BaseCommand):
    help = "Print a one-time sidebar launch URL for an agent of a workspace."

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True, help="the workspace slug, e.g. demo")
        parser.add_argument("--agent", required=True, help="the ArminCX agent id (sub)")
        parser.add_argument("--name", required=True, help="the agent's display name")
        parser.add_argument("--conversation", default="", help="the ArminCX conversation id")
        parser.add_argument("--customer-email", default="", help="the customer's e-mail address")
        parser.add_argument("--email", default="", help="the agent's e-mail address")
        parser.add_argument("--tz", default="", help="the agent's time zone, e.g. Europe/Berlin")
        parser.add_argument("--locale", default="", help="the agent's language, e.g. de or de-DE")
        parser.add_argument("--base-url", default=DEFAULT_BASE_URL, help="where the app runs")
        parser.add_argument(
            "--ttl",
            type=int,
            default=300,
            help=f"seconds until the token expires (1 to {MAX_LIFETIME_SECONDS})",
        )

    def handle(self, *args, **options):
        slug = options["workspace"]
        workspace = Workspace.objects.filter(slug=slug).first()
        if workspace is None:
            raise CommandError(
                f"No workspace with the slug {slug!r}. Seed the demo or create the workspace first."
            )
        try:
            token = launch_token_mint(
                workspace=workspace,
                agent_id=options["agent"],
                agent_name=options["name"],
                conversation=options["conversation"],
                customer_email=options["customer_email"],
                email=options["email"],
                tz=options["tz"],
                locale=options["locale"],
                ttl_seconds=options["ttl"],
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        base_url = options["base_url"].rstrip("/")
        self.stdout.write(f"{base_url}{_launch_path()}?{urlencode({'token': token})}")


def _launch_path() -> str:
    try:
        return reverse("sidebar:launch")
    except NoReverseMatch:
        return "/sidebar/"
