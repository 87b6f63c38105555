"""Account health for the history page: what a lead checks when failures spike, read only.

Per connected account: its status and last error (as Connect, Test connection and lookups
left them), when GoKarla last accepted its credentials, whether the circuit breaker is
pausing calls to it, its webhook and when GoKarla last delivered, and the shipment sync.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from accounts.models import GoKarlaAccount, Workspace
from accounts.selectors import account_list
from karla_sidebar.breaker import breaker_is_open
from karla_sidebar.shipment_index import IndexSummary, shipment_index_summaries


@dataclass(frozen=True, slots=True)
class AccountHealth:
    account: GoKarlaAccount
    breaker_open: bool
    index: IndexSummary

    @property
    def healthy(self) -> bool:
        connected = self.account.status == GoKarlaAccount.Status.CONNECTED
        return connected and not self.breaker_open and not self.index.last_sync_error

    @property
    def last_delivery_at(self) -> datetime | None:
        return self.account.webhook_last_delivery_at


def account_health_list(*, workspace: Workspace) -> list[AccountHealth]:
    """The workspace's accounts, default first, each with its health: two queries for all,
    and one cache read per account (the breaker)."""
    accounts = list(account_list(workspace=workspace))
    summaries = shipment_index_summaries(accounts=accounts)
    return [
        AccountHealth(
            account=account,
            breaker_open=breaker_is_open(account_id=account.pk),
            index=summaries.get(account.pk, IndexSummary()),
        )
        for account in accounts
    ]
