"""GoKarla webhook registration per account. Each existing account gets its own unguessable
``webhook_id`` (a column default would give every row the same one)."""

import secrets

from django.db import migrations, models

import accounts.fields
import accounts.models


def fill_webhook_ids(apps, schema_editor):
    GoKarlaAccount = apps.get_model("accounts", "GoKarlaAccount")
    for pk in GoKarlaAccount.objects.values_list("pk", flat=True):
        GoKarlaAccount.objects.filter(pk=pk).update(webhook_id=secrets.token_urlsafe(24))


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_account_api_root")]

    operations = [
        migrations.AddField(
            model_name="gokarlaaccount",
            name="webhook_id",
            field=models.CharField(max_length=64, null=True),
        ),
        migrations.RunPython(fill_webhook_ids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="gokarlaaccount",
            name="webhook_id",
            field=models.CharField(
                default=accounts.models.new_webhook_id, max_length=64, unique=True
            ),
        ),
        migrations.AddField(
            model_name="gokarlaaccount",
            name="webhook_uuid",
            field=models.CharField(blank=True, max_length=100),
        ),
        migrations.AddField(
            model_name="gokarlaaccount",
            name="webhook_secret",
            field=accounts.fields.EncryptedSecretField(blank=True, default="", max_length=200),
        ),
        migrations.AddField(
            model_name="gokarlaaccount",
            name="webhook_status",
            field=models.CharField(
                blank=True,
                choices=[
                    ("", "Not registered"),
                    ("active", "Active"),
                    ("not_allowed", "Not allowed for this key"),
                    ("failed", "Registration failed"),
                ],
                default="",
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="gokarlaaccount",
            name="webhook_note",
            field=models.CharField(blank=True, max_length=500),
        ),
        migrations.AddField(
            model_name="gokarlaaccount",
            name="webhook_last_delivery_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
