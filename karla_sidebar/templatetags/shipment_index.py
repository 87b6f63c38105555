"""The shipment index on the Accounts tab (a page of the ``accounts`` app, which may not import
this feature): ``{% shipment_index_rows accounts as rows %}`` pairs each account with its
``IndexSummary`` (index size, last indexed, last sync), read in two queries for all."""

from django import template

from karla_sidebar.shipment_index import IndexSummary, shipment_index_summaries

register = template.Library()


@register.simple_tag
def shipment_index_rows(accounts) -> list[tuple[object, IndexSummary]]:
    accounts = list(accounts)
    summaries = shipment_index_summaries(accounts=accounts)
    return [(account, summaries.get(account.pk, IndexSummary())) for account in accounts]
