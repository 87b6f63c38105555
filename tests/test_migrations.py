"""Migrations that move data: accounts connected before API roots were stored keep calling
exactly what they called."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("accounts", "0002_api_keys"), ("karla_sidebar", "0005_lookup_record_stale")]
AFTER = [("accounts", "0003_account_api_root"), ("karla_sidebar", "0006_shipment_index")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_existing_accounts_get_the_api_root_and_slug_of_yesterday_s_rules():
    apps = migrate(BEFORE)
    try:
        Workspace = apps.get_model("accounts", "Workspace")
        GoKarlaAccount = apps.get_model("accounts", "GoKarlaAccount")
        workspace = Workspace.objects.create(slug="acme", name="Acme", sidebar_secret="s" * 40)
        for label, url, username in (
            ("Shop host", "https://acme.gokarla.io", "key-name"),
            ("API host", "https://api.gokarla.io", "acme-shop"),
            ("Sandbox", "http://127.0.0.1:8001", "demo-shop"),
        ):
            GoKarlaAccount.objects.create(
                workspace=workspace, label=label, url=url, username=username, api_token="t"
            )
        apps = migrate(AFTER)
        accounts = apps.get_model("accounts", "GoKarlaAccount").objects.order_by("id")
        assert [(a.label, a.api_root, a.shop_slug) for a in accounts] == [
            ("Shop host", "https://acme.gokarla.io/api/v1", "acme"),
            ("API host", "https://api.gokarla.io/v1", "acme-shop"),
            ("Sandbox", "http://127.0.0.1:8001/api/v1", "demo-shop"),
        ]
        apps = migrate([("accounts", "0004_account_webhook")])
        webhook_ids = apps.get_model("accounts", "GoKarlaAccount").objects.values_list(
            "webhook_id", flat=True
        )
        assert len(set(webhook_ids)) == 3 and all(len(i) >= 32 for i in webhook_ids)
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
