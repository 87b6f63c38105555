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


@pytest.mark.django_db
def test_the_models_declare_every_index_the_database_has():
    """The migrations describe the real schema: each app table has exactly the indexes its
    model declares for this database (``Meta.indexes``, a field's own index), none made
    behind the model state's back."""
    from django.apps import apps

    for app in ("accounts", "karla_sidebar"):
        for model in apps.get_app_config(app).get_models():
            meta = model._meta
            with connection.cursor() as cursor:
                found = connection.introspection.get_constraints(cursor, meta.db_table)
            indexes = {
                name: info["columns"]
                for name, info in found.items()
                if info["index"] and not (info["primary_key"] or info["unique"])
            }
            declared = {
                index.name
                for index in meta.indexes
                if getattr(index, "vendor", connection.vendor) == connection.vendor
            }
            own = {  # a ForeignKey's index, PostgreSQL's LIKE index of a unique text column
                field.column for field in meta.concrete_fields if field.db_index or field.unique
            }
            undeclared = {
                name
                for name, columns in indexes.items()
                if name not in declared and not (len(columns) == 1 and columns[0] in own)
            }
            assert undeclared == set(), meta.label
            assert declared <= set(indexes), meta.label
