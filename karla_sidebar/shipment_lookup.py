"""Get Shipment's search: GoKarla has no shipment lookup, so the shipment index names the order
(one search by its uuid brings GoKarla's live tracking), else the conversation customer's
orders are searched; a miss says honestly what was searched."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from django.utils.functional import lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from karla_sidebar.formatting import number_label, relative_label
from karla_sidebar.gokarla import (
    GoKarlaClient,
    NoTrackingYet,
    Order,
    Shipment,
    ShipmentNotFound,
    tracking_key,
)
from karla_sidebar.models import ShipmentIndexEntry, ShipmentSync
from karla_sidebar.shipment_index import shipment_index_size

# How many of a customer's orders a Get Shipment searches when the index does not know it.
CUSTOMER_SEARCH_SIZE = 100


class Actor(Protocol):
    customer_email: str


class Resolution:
    """How a Get Shipment found its order (``LookupRecord.resolved_by``)."""

    INDEX = "index"
    CUSTOMER = "customer"


@dataclass(frozen=True, slots=True)
class Answer:
    """What one account answered: the records, the orders GoKarla returned (they feed the
    shipment index) and, for a shipment, how its order was found, or the index entry GoKarla
    contradicted."""

    records: list
    orders: list[Order]
    resolved_by: str = ""
    contradicted: ShipmentIndexEntry | None = None
    owners: tuple[str, ...] = ()  # each record's customer e-mail


def find_shipment(client: GoKarlaClient, reference: str, entry, actor: Actor) -> Answer:
    """GoKarla has no shipment lookup: the index entry names the order, one search by its
    uuid brings the live tracking; else the conversation customer's orders are searched.
    No records: not found in either."""
    contradicted = None
    if entry is not None:
        orders = client.orders_search(uuid=entry.order_uuid)
        shipment = _shipment_in(orders, reference)
        if shipment is not None:
            return Answer(
                records=[shipment],
                orders=orders,
                resolved_by=Resolution.INDEX,
                owners=(_owner(orders, shipment),),
            )
        contradicted = entry  # GoKarla no longer agrees: forget it, look further
    orders = []
    if actor.customer_email:
        orders = client.orders_search(email_id=actor.customer_email, per_page=CUSTOMER_SEARCH_SIZE)
        shipment = _shipment_in(orders, reference)
        if shipment is not None:
            return Answer(
                records=[shipment],
                orders=orders,
                resolved_by=Resolution.CUSTOMER,
                owners=(_owner(orders, shipment),),
                contradicted=contradicted,
            )
    return Answer(records=[], orders=orders, contradicted=contradicted)


def _owner(orders: list[Order], shipment: Shipment) -> str:
    """The e-mail of the customer whose order holds ``shipment``."""
    return next((order.email for order in orders if shipment in order.shipments), "")


def _shipment_in(orders: list[Order], reference: str) -> Shipment | None:
    """The shipment of these orders that ``reference`` names; NoTrackingYet for a draft."""
    key = tracking_key(reference)
    for order in orders:
        shipment = order.shipment(reference)
        if shipment is not None:
            return shipment
        if any(tracking_key(draft) == key for draft in order.draft_shipment_ids):
            raise NoTrackingYet(status_code=200)
    return None


def shipment_not_found(account, actor: Actor, asked_gokarla: bool) -> ShipmentNotFound:
    """An honest not-found: what was searched, and what the agent can do instead."""
    size, _ = shipment_index_size(account=account)
    synced = (
        ShipmentSync.objects.filter(workspace_id=account.workspace_id, account_id=account.pk)
        .values_list("last_finished_at", flat=True)
        .first()
    )
    # Lazy, like every error message: read in the language of the request that shows it.
    when = (
        format_lazy(gettext_lazy("last synced {ago}"), ago=lazy(relative_label, str)(synced))
        if synced
        else gettext_lazy("never synced")
    )
    if actor.customer_email:
        message = gettext_lazy(
            "No shipment with that tracking number or ID among the {size} shipments Karla "
            "Sidebar knows of in {account} ({when}) or in the orders of {email}. GoKarla cannot "
            "look up tracking numbers directly: Get Order with the order number shows its "
            "shipments."
        )
    else:
        message = gettext_lazy(
            "No shipment with that tracking number or ID among the {size} shipments Karla "
            "Sidebar knows of in {account} ({when}). GoKarla cannot look up tracking numbers "
            "directly: Get Order with the order number shows its shipments."
        )
    return ShipmentNotFound(
        format_lazy(
            message,
            size=lazy(number_label, str)(size),
            account=account.label,
            when=when,
            email=actor.customer_email,
        ),
        status_code=200 if asked_gokarla else None,
    )
