"""The shipment index, ``LookupRecord.resolved_by`` and the "not GoKarla's API" outcome.

``resolved_by`` is added like ``stale`` in 0005: ``ALTER TABLE … ADD COLUMN`` with a default
kept in the database, so servers still on the previous release go on recording lookups and
SQLite keeps the table (and the partial ``lookup_by_latency`` index) as it is.
"""

import django.db.models.deletion
from django.db import migrations, models

TABLE = "karla_sidebar_lookuprecord"
COLUMN_TYPE = {"postgresql": "varchar(10)", "sqlite": "varchar(10)"}


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    schema_editor.execute(
        f'ALTER TABLE "{TABLE}" ADD COLUMN "resolved_by" {COLUMN_TYPE[vendor]} '
        "NOT NULL DEFAULT ''"
    )


def backwards(apps, schema_editor):
    schema_editor.execute(f'ALTER TABLE "{TABLE}" DROP COLUMN "resolved_by"')


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_account_api_root"),
        ("karla_sidebar", "0005_lookup_record_stale"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="lookuprecord",
                    name="resolved_by",
                    field=models.CharField(blank=True, default="", max_length=10),
                ),
            ],
            database_operations=[migrations.RunPython(forwards, backwards, elidable=False)],
        ),
        migrations.AlterField(
            model_name="lookuprecord",
            name="outcome",
            field=models.CharField(
                choices=[
                    ("found", "Found"),
                    ("not_found", "Not found"),
                    ("no_tracking_yet", "No tracking yet"),
                    ("credentials_rejected", "Credentials rejected"),
                    ("access_denied", "Access denied"),
                    ("rate_limited", "Rate limited"),
                    ("unavailable", "GoKarla unavailable"),
                    ("timeout", "Timed out"),
                    ("unexpected_response", "Unexpected response"),
                    ("not_gokarla_api", "Not GoKarla's API"),
                    ("invalid_input", "Invalid input"),
                    ("no_account", "No account connected"),
                ],
                max_length=24,
            ),
        ),
        migrations.CreateModel(
            name="ShipmentIndexEntry",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("shipment_id", models.CharField(max_length=100)),
                ("shipment_key", models.CharField(max_length=100)),
                ("tracking_number", models.CharField(blank=True, max_length=100)),
                ("tracking_key", models.CharField(blank=True, max_length=100)),
                ("order_uuid", models.CharField(max_length=100)),
                ("order_number", models.CharField(blank=True, max_length=100)),
                ("carrier_reference", models.CharField(blank=True, max_length=50)),
                ("phase", models.CharField(blank=True, max_length=40)),
                ("last_event_at", models.DateTimeField(blank=True, null=True)),
                ("updated_at", models.DateTimeField(blank=True, null=True)),
                (
                    "source",
                    models.CharField(
                        choices=[("lookup", "Lookup"), ("webhook", "Webhook"), ("sync", "Sync")],
                        max_length=10,
                    ),
                ),
                ("indexed_at", models.DateTimeField()),
                (
                    "account",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="accounts.gokarlaaccount",
                    ),
                ),
                (
                    "workspace",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="accounts.workspace",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=["workspace", "tracking_key"], name="shipment_by_tracking"
                    ),
                    models.Index(fields=["workspace", "shipment_key"], name="shipment_by_id"),
                    models.Index(fields=["account", "-indexed_at"], name="shipment_by_account"),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("account", "shipment_id"), name="one_index_entry_per_shipment"
                    )
                ],
            },
        ),
    ]
