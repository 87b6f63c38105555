"""What operators' commands say about the accounts there are (for an unknown ``--account``)."""

from accounts.models import GoKarlaAccount

LISTED = 20


def accounts_described() -> str:
    """``Accounts: 1 Demo Shop (demo); 2 …`` or that there are none, for an error message."""
    accounts = GoKarlaAccount.objects.select_related("workspace").order_by("id")[:LISTED]
    listed = "; ".join(f"{a.pk} {a.label} ({a.workspace.slug})" for a in accounts)
    return f"Accounts: {listed}." if listed else "There are no accounts yet."
