"""Activity entries for the webhook: registered, could not be registered, deleted. Only the
choices change: no SQL runs."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_account_webhook")]

    operations = [
        migrations.AlterField(
            model_name="accountactivity",
            name="action",
            field=models.CharField(
                choices=[
                    ("connected", "Connected"),
                    ("token_updated", "Updated the API token"),
                    ("tested", "Tested the connection"),
                    ("test_failed", "Connection test failed"),
                    ("made_default", "Made default"),
                    ("removed", "Removed"),
                    ("webhook_registered", "Registered the webhook"),
                    ("webhook_failed", "Could not register the webhook"),
                    ("webhook_removed", "Deleted the webhook"),
                ],
                max_length=20,
            ),
        ),
    ]
