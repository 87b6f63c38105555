"""The app's webhook at GoKarla: registered at Connect when PUBLIC_BASE_URL is set, deleted
when the account is removed, checked and repaired by ``manage.py gokarla_webhooks``, and shown
on the Accounts tab. Each test has a sandbox of its own (it changes the sandbox's webhooks)."""

from __future__ import annotations

import pytest
import requests
from django.core.management import CommandError, call_command

from accounts.models import AccountActivity, GoKarlaAccount
from accounts.services import account_connect, account_remove
from accounts.webhooks import LEFT_BEHIND_NOTE, NOT_ALLOWED_NOTE
from sandbox.server import make_server

PUBLIC = "https://karla.example.com"
ACCOUNTS_TAB = "/settings/integrations/gokarla/accounts/"


@pytest.fixture
def gokarla(settings):
    """A sandbox of this test's own, the app pointed at it, PUBLIC_BASE_URL set."""
    server = make_server(port=0).start()
    settings.SANDBOX_ENABLED = True
    settings.SANDBOX_URL = server.url
    settings.PUBLIC_BASE_URL = PUBLIC
    yield server
    server.stop()


def hooks_at(server, auth=("demo-shop", "karla-demo-token"), shop="demo-shop") -> list[dict]:
    """The shop's webhooks, as GoKarla's own search lists them."""
    response = requests.get(f"{server.url}/api/v1/shops/{shop}/webhooks", auth=auth, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def connect(workspace, server, username="demo-shop", token="karla-demo-token", **extra):
    return account_connect(
        workspace=workspace, url=server.url, username=username, token=token, **extra
    )


def fresh(account) -> GoKarlaAccount:
    return GoKarlaAccount.objects.get(pk=account.pk)


def activity(account) -> list[str]:
    return list(
        AccountActivity.objects.filter(account_label=account.label)
        .order_by("id")
        .values_list("action", flat=True)
    )


class TestAtConnect:
    def test_connect_registers_the_webhook(self, workspace, gokarla):
        account = fresh(connect(workspace, gokarla))
        [hook] = hooks_at(gokarla)
        assert hook["url"] == f"{PUBLIC}/webhooks/gokarla/{account.webhook_id}/"
        assert (hook["enabled_events"], hook["description"], hook["status"]) == (
            ["shipments"],
            "Karla Sidebar",
            "active",
        )
        assert (account.webhook_status, account.webhook_uuid) == ("active", hook["uuid"])
        assert len(account.webhook_secret) >= 32
        assert activity(account) == ["connected", "webhook_registered"]

    def test_the_secret_is_stored_encrypted(self, workspace, gokarla):
        from django.db import connection

        account = fresh(connect(workspace, gokarla))
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT webhook_secret FROM accounts_gokarlaaccount WHERE id = %s", [account.pk]
            )
            [stored] = cursor.fetchone()
        assert account.webhook_secret not in stored
        assert account.webhook_secret not in repr(account)

    def test_without_public_base_url_nothing_is_registered(self, workspace, gokarla, settings):
        settings.PUBLIC_BASE_URL = ""
        account = fresh(connect(workspace, gokarla))
        assert hooks_at(gokarla) == []
        assert (account.webhook_status, account.webhook_uuid) == ("", "")

    def test_a_viewer_key_connects_with_a_note_and_no_webhook(self, workspace, gokarla):
        account = fresh(
            connect(
                workspace,
                gokarla,
                username="demo-shop-viewer",
                token="karla-viewer-token",
                shop_slug="demo-shop",
            )
        )
        assert account.status == "connected"
        assert (account.webhook_status, account.webhook_note) == ("not_allowed", NOT_ALLOWED_NOTE)
        assert hooks_at(gokarla) == []
        assert activity(account) == ["connected", "webhook_failed"]

    def test_gokarla_failing_to_register_never_fails_connect(self, workspace, gokarla, settings):
        from unittest import mock

        from karla_sidebar.gokarla import GoKarlaClient, Unavailable

        with mock.patch.object(GoKarlaClient, "webhook_create", side_effect=Unavailable()):
            account = fresh(connect(workspace, gokarla))
        assert account.status == "connected"
        assert (account.webhook_status, account.webhook_note) == (
            "failed",
            Unavailable.default_message,
        )

    def test_an_unexpected_error_never_fails_connect(self, workspace, gokarla):
        from unittest import mock

        from karla_sidebar.gokarla import GoKarlaClient

        with mock.patch.object(GoKarlaClient, "webhooks_search", side_effect=RuntimeError):
            account = fresh(connect(workspace, gokarla))
        assert account.status == "connected"
        assert account.webhook_status == ""


class TestAtUpdateToken:
    def test_a_missing_webhook_is_registered_when_the_token_is_updated(
        self, workspace, gokarla, settings
    ):
        from accounts.services import account_update_token

        settings.PUBLIC_BASE_URL = ""
        account = connect(workspace, gokarla)
        settings.PUBLIC_BASE_URL = PUBLIC
        account_update_token(account=fresh(account), token="karla-demo-token")
        assert fresh(account).webhook_status == "active"
        assert len(hooks_at(gokarla)) == 1

    def test_an_active_webhook_is_left_alone(self, workspace, gokarla):
        from accounts.services import account_update_token

        account = fresh(connect(workspace, gokarla))
        account_update_token(account=account, token="karla-demo-token")
        again = fresh(account)
        assert (again.webhook_uuid, again.webhook_secret) == (
            account.webhook_uuid,
            account.webhook_secret,
        )
        assert activity(account) == ["connected", "webhook_registered", "token_updated"]


class TestAtRemove:
    def test_remove_deletes_the_webhook_at_gokarla(self, workspace, gokarla):
        account = connect(workspace, gokarla)
        assert len(hooks_at(gokarla)) == 1
        account_remove(account=account)
        assert hooks_at(gokarla) == []
        assert not GoKarlaAccount.objects.filter(pk=account.pk).exists()

    def test_remove_goes_on_when_gokarla_cannot_be_reached(self, workspace, gokarla):
        account = connect(workspace, gokarla)
        gokarla.stop()
        account_remove(account=account)
        assert not GoKarlaAccount.objects.filter(pk=account.pk).exists()
        removed = AccountActivity.objects.get(action="removed", account_label=account.label)
        assert removed.detail == LEFT_BEHIND_NOTE


def run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("gokarla_webhooks", *args, stdout=out, stderr=out)
    return out.getvalue()


class TestCommand:
    def test_ensure_registers_accounts_connected_before(self, workspace, gokarla, settings):
        settings.PUBLIC_BASE_URL = ""
        account = connect(workspace, gokarla, label="Demo Shop")
        settings.PUBLIC_BASE_URL = PUBLIC
        output = run("ensure")
        assert f"Demo Shop (account {account.pk}, workspace acme): Registered" in output
        assert fresh(account).webhook_status == "active"
        assert len(hooks_at(gokarla)) == 1

    def test_ensure_again_changes_nothing(self, workspace, gokarla):
        account = fresh(connect(workspace, gokarla))
        output = run("ensure", "--account", str(account.pk))
        assert "The webhook is registered at GoKarla." in output
        again = fresh(account)
        assert (again.webhook_uuid, again.webhook_secret) == (
            account.webhook_uuid,
            account.webhook_secret,
        )
        assert [hook["uuid"] for hook in hooks_at(gokarla)] == [account.webhook_uuid]
        assert activity(account) == ["connected", "webhook_registered"]

    def test_ensure_registers_again_with_a_fresh_secret_when_gokarla_lost_it(
        self, workspace, gokarla
    ):
        account = fresh(connect(workspace, gokarla))
        gokarla.api.webhooks.delete("demo-shop", account.webhook_uuid)
        run("ensure")
        again = fresh(account)
        [hook] = hooks_at(gokarla)
        assert again.webhook_uuid == hook["uuid"] != account.webhook_uuid
        assert again.webhook_secret != account.webhook_secret

    def test_ensure_follows_a_new_public_base_url(self, workspace, gokarla, settings):
        account = fresh(connect(workspace, gokarla))
        settings.PUBLIC_BASE_URL = "https://karla.example.org"
        assert "Updated the webhook" in run("ensure")
        [hook] = hooks_at(gokarla)
        assert hook["url"] == f"https://karla.example.org/webhooks/gokarla/{account.webhook_id}/"
        again = fresh(account)
        assert (again.webhook_uuid, again.webhook_secret) == (
            account.webhook_uuid,
            account.webhook_secret,
        )

    def test_ensure_deletes_a_webhook_with_our_address_whose_secret_we_lost(
        self, workspace, gokarla
    ):
        account = fresh(connect(workspace, gokarla))
        GoKarlaAccount.objects.filter(pk=account.pk).update(webhook_uuid="")
        run("ensure")
        hooks = hooks_at(gokarla)
        assert [hook["uuid"] for hook in hooks] == [fresh(account).webhook_uuid]

    def test_ensure_reports_each_failure_and_exits_non_zero(self, workspace, gokarla, settings):
        settings.PUBLIC_BASE_URL = ""
        connect(workspace, gokarla, label="Shop")
        connect(
            workspace,
            gokarla,
            username="demo-shop-viewer",
            token="karla-viewer-token",
            shop_slug="demo-shop",
            label="Viewer",
        )
        settings.PUBLIC_BASE_URL = PUBLIC
        with pytest.raises(CommandError, match="1 of 2 accounts failed"):
            run("ensure")
        viewer = GoKarlaAccount.objects.get(label="Viewer")
        assert (viewer.webhook_status, viewer.webhook_note) == ("not_allowed", NOT_ALLOWED_NOTE)
        assert GoKarlaAccount.objects.get(label="Shop").webhook_status == "active"

    def test_ensure_needs_public_base_url(self, settings, db):
        settings.PUBLIC_BASE_URL = ""
        with pytest.raises(CommandError, match="PUBLIC_BASE_URL is not set"):
            run("ensure")

    def test_an_unknown_account(self, workspace, gokarla, db):
        account = connect(workspace, gokarla)
        with pytest.raises(CommandError, match="No GoKarla account has the id 999") as caught:
            run("ensure", "--account", "999")
        assert caught.value.returncode == 2  # a bad option, as for sync_gokarla
        assert f"Accounts: {account.pk} {account.label} (acme)." in str(caught.value)

    def test_remove_deletes_it_and_is_idempotent(self, workspace, gokarla):
        account = connect(workspace, gokarla)
        assert "Deleted the webhook at GoKarla." in run("remove")
        assert hooks_at(gokarla) == []
        removed = fresh(account)
        assert (removed.webhook_status, removed.webhook_uuid, removed.webhook_secret) == (
            "",
            "",
            "",
        )
        assert "nothing to delete" in run("remove")
        assert activity(account)[-1] == "webhook_removed"

    def test_remove_when_gokarla_already_deleted_it(self, workspace, gokarla):
        account = fresh(connect(workspace, gokarla))
        gokarla.api.webhooks.delete("demo-shop", account.webhook_uuid)
        assert "Deleted the webhook at GoKarla." in run("remove")
        assert fresh(account).webhook_uuid == ""


class TestAccountsTab:
    def test_shows_the_webhook_the_index_and_the_sync(self, workspace, gokarla, alice_client):
        connect(workspace, gokarla, label="Demo Shop")
        connect(
            workspace,
            gokarla,
            username="demo-shop-viewer",
            token="karla-viewer-token",
            shop_slug="demo-shop",
            label="Viewer",
        )
        page = alice_client.get(ACCOUNTS_TAB).content.decode()
        assert '<th scope="col">Shipment index</th>' in page
        shop, viewer = page.split('data-account="Demo Shop"')[1].split('data-account="Viewer"')
        assert "Webhook:" in shop and ">active</span>" in shop and "No delivery yet" in shop
        assert "0 shipments indexed" in shop and "Not synced yet" in shop
        assert ">not allowed for this key</span>" in viewer
        assert NOT_ALLOWED_NOTE.replace("'", "&#x27;") in viewer
        secrets = [a.webhook_secret for a in GoKarlaAccount.objects.all() if a.webhook_secret]
        assert secrets and not any(secret in page for secret in secrets)

    def test_shows_the_last_delivery_and_sync(self, workspace, gokarla, alice_client):
        from datetime import timedelta

        from django.utils import timezone

        from karla_sidebar.models import ShipmentSync

        account = connect(workspace, gokarla, label="Demo Shop")
        now = timezone.now()
        GoKarlaAccount.objects.filter(pk=account.pk).update(
            webhook_last_delivery_at=now - timedelta(minutes=2)
        )
        ShipmentSync.objects.create(
            workspace=workspace, account=account, last_finished_at=now - timedelta(hours=3)
        )
        page = alice_client.get(ACCOUNTS_TAB).content.decode()
        assert "Last delivery <time" in page and "2 minutes ago" in page
        assert "Last sync <time" in page and "3 hours ago" in page

    def test_a_lead_sees_it_too_and_another_workspace_sees_nothing(
        self, workspace, gokarla, leo_client, gwen_client
    ):
        connect(workspace, gokarla, label="Demo Shop")
        assert "Webhook:" in leo_client.get(ACCOUNTS_TAB).content.decode()
        assert "Demo Shop" not in gwen_client.get(ACCOUNTS_TAB).content.decode()
