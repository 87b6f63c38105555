"""Create a workspace and its first admin (for operators; the demo has its own seed).

    python manage.py create_workspace --slug acme --name "Acme" --admin alice

The admin's password is asked for (or read from KARLA_ADMIN_PASSWORD, never from a flag).
An existing user is made admin of the new workspace instead.
"""

import getpass
import os

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.text import slugify

from accounts.models import Membership, Workspace


class Command(BaseCommand):
    help = "Create a workspace (slug = the ArminCX workspace) and make a user its admin."

    def add_arguments(self, parser):
        parser.add_argument("--slug", required=True, help="the ArminCX workspace slug")
        parser.add_argument("--name", required=True, help="shown in the settings pages")
        parser.add_argument("--admin", required=True, help="username of the workspace admin")
        parser.add_argument("--email", default="", help="the admin's e-mail (new users)")

    def handle(self, *args, slug, name, admin, email, **options):
        if slugify(slug) != slug:
            raise CommandError("The slug may contain only lowercase letters, digits and hyphens.")
        if Workspace.objects.filter(slug=slug).exists():
            raise CommandError(f"A workspace {slug!r} exists already.")
        User = get_user_model()
        user = User.objects.filter(username=admin).first()
        password = None
        if user is None:
            password = os.environ.get("KARLA_ADMIN_PASSWORD") or getpass.getpass(
                f"Password for the new user {admin}: "
            )
            try:
                validate_password(password)
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from None
        with transaction.atomic():
            workspace = Workspace.objects.create(slug=slug, name=name)
            if user is None:
                user = User.objects.create_user(username=admin, email=email, password=password)
            Membership.objects.create(user=user, workspace=workspace, role=Membership.Role.ADMIN)
        self.stdout.write(
            self.style.SUCCESS(
                f"Workspace {name} ({slug}) created with {admin} as its admin. Log in at /login/, "
                "then connect GoKarla under Settings → Integrations → GoKarla."
            )
        )
