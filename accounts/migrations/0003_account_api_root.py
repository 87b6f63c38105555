"""Accounts remember the API root that answered and the shop slug they use.

Until now both were derived from the URL and username on every call: ``https://{shop}.gokarla.io``
→ ``…/api/v1`` and slug ``{shop}``; ``https://api.gokarla.io`` → ``…/v1`` and the username as
slug; any other allowed host (and the sandbox) → ``…/api/v1`` and the username. The data step
fills the new column with exactly that, so existing accounts keep calling what they called.
"""

from django.db import migrations, models


def _derived(url: str, username: str) -> tuple[str, str]:
    """Yesterday's rule: (API root, shop slug) for a stored origin and username."""
    host = url.split("://", 1)[-1].split("/", 1)[0].lower()
    if host == "api.gokarla.io":
        return f"{url}/v1", username
    label, _, parent = host.partition(".")
    if parent == "gokarla.io" and label:
        return f"{url}/api/v1", label
    return f"{url}/api/v1", username


def fill_api_root(apps, schema_editor):
    GoKarlaAccount = apps.get_model("accounts", "GoKarlaAccount")
    for account in GoKarlaAccount.objects.only("id", "url", "username"):
        api_root, slug = _derived(account.url.rstrip("/"), account.username)
        GoKarlaAccount.objects.filter(pk=account.pk).update(api_root=api_root, shop_slug=slug)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_api_keys")]

    operations = [
        migrations.RemoveConstraint(
            model_name="gokarlaaccount", name="unique_account_per_workspace"
        ),
        migrations.AddField(
            model_name="gokarlaaccount",
            name="api_root",
            field=models.CharField(
                default="", max_length=300, verbose_name="GoKarla API address"
            ),
            preserve_default=False,
        ),
        migrations.RunPython(fill_api_root, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="gokarlaaccount",
            name="shop_slug",
            field=models.CharField(max_length=150),
        ),
        migrations.AddConstraint(
            model_name="gokarlaaccount",
            constraint=models.UniqueConstraint(
                fields=("workspace", "api_root", "shop_slug", "username"),
                name="unique_account_per_workspace",
            ),
        ),
    ]
