"""The shipment events the sandbox knows: each event key's phase, its localized strings, and
what an event does to a tracking's ``state`` and ``flag``.

GoKarla documents about 80 event keys and names only a few (gokarla-api.md): the keys below
are those plus the few more a demo needs, each with one of GoKarla's twelve phases. The
``event_strings`` are the sandbox's own wording, in English and German (the languages the
sandbox localizes; any other ``Accept-Language`` gets English). ``ORDER_CANCELLED`` is the
event GoKarla gives a cancelled draft shipment; the docs do not name its phase, so the
sandbox files it under ``order_processed``.
"""

from __future__ import annotations

from typing import Any

LANGUAGES = ("en", "de")
DEFAULT_LANGUAGE = "en"

PRE_TRANSIT_PHASES = frozenset({"order_created", "order_processed"})
RETURN_PHASES = frozenset({"return_created", "return_transit", "return_received", "return_failed"})
# Phases after which nothing more happens to a shipment (the auto-advance skips them).
FINAL_PHASES = frozenset({"delivered", "return_received", "return_failed", "returned"})

# event key -> (phase, English strings, German strings); the strings are event_status,
# list_label, header_headline, header_title, header_subtitle.
# fmt: off
_EVENTS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "ORDER_CREATED": (
        "order_created",
        ("Order placed", "Order received", "We have received your order", "Order confirmed",
         "We will let you know as soon as it ships."),
        ("Bestellung aufgegeben", "Bestellung eingegangen", "Wir haben deine Bestellung erhalten",
         "Bestellung bestätigt", "Wir melden uns, sobald sie versendet wird."),
    ),
    "ORDER_IN_PROCESSING": (
        "order_processed",
        ("Order processed", "Order in processing", "Your order is being packed",
         "In preparation", "Your parcel will be handed to the carrier soon."),
        ("Bestellung bearbeitet", "Bestellung in Bearbeitung", "Deine Bestellung wird gepackt",
         "In Vorbereitung", "Dein Paket wird bald an den Versanddienstleister übergeben."),
    ),
    "ORDER_CANCELLED": (
        "order_processed",
        ("Cancelled", "Order cancelled", "Your order has been cancelled", "Order cancelled",
         "This shipment will not be sent."),
        ("Storniert", "Bestellung storniert", "Deine Bestellung wurde storniert",
         "Bestellung storniert", "Diese Sendung wird nicht verschickt."),
    ),
    "PARCEL_HANDED_TO_CARRIER": (
        "in_transit",
        ("In transit", "Handed to the carrier", "Your parcel is on its way", "On its way",
         "The carrier has your parcel."),
        ("Unterwegs", "An den Versanddienstleister übergeben", "Dein Paket ist unterwegs",
         "Unterwegs", "Der Versanddienstleister hat dein Paket."),
    ),
    "ARRIVAL_AT_TRANSPORT_HUB": (
        "in_transit",
        ("In transit", "Arrived at the parcel centre", "Your parcel is on its way", "On its way",
         "Your parcel has reached a parcel centre."),
        ("Unterwegs", "Im Paketzentrum angekommen", "Dein Paket ist unterwegs", "Unterwegs",
         "Dein Paket ist in einem Paketzentrum angekommen."),
    ),
    "DEPARTURE_FROM_TRANSPORT_HUB": (
        "in_transit",
        ("In transit", "Left the parcel centre", "Your parcel is on its way", "On its way",
         "Your parcel has left the parcel centre."),
        ("Unterwegs", "Paketzentrum verlassen", "Dein Paket ist unterwegs", "Unterwegs",
         "Dein Paket hat das Paketzentrum verlassen."),
    ),
    "SHIPMENT_DELAYED": (
        "in_transit",
        ("Delayed", "Shipment delayed", "Your parcel is running late", "Delayed",
         "Sorry: delivery will take a little longer."),
        ("Verspätet", "Sendung verspätet", "Dein Paket verspätet sich", "Verspätet",
         "Entschuldigung: Die Zustellung dauert etwas länger."),
    ),
    "OUT_FOR_DELIVERY": (
        "in_delivery",
        ("Out for delivery", "Out for delivery", "Your parcel arrives today", "Out for delivery",
         "The driver is on the way to you."),
        ("In Zustellung", "In Zustellung", "Dein Paket kommt heute", "In Zustellung",
         "Der Zusteller ist auf dem Weg zu dir."),
    ),
    "DELIVERY_ATTEMPTED": (
        "delivery_failed",
        ("Delivery failed", "Delivery attempted", "We could not deliver your parcel",
         "Delivery attempt failed", "The carrier will try again or leave a notice."),
        ("Zustellung fehlgeschlagen", "Zustellversuch", "Wir konnten dein Paket nicht zustellen",
         "Zustellversuch fehlgeschlagen",
         "Der Versanddienstleister versucht es erneut oder hinterlässt eine Nachricht."),
    ),
    "READY_FOR_COLLECTION": (
        "collect",
        ("Ready for pickup", "Ready for pickup", "Your parcel is waiting for you",
         "Ready for pickup", "Collect it with your pickup code."),
        ("Abholbereit", "Zur Abholung bereit", "Dein Paket wartet auf dich", "Abholbereit",
         "Hole es mit deinem Abholcode ab."),
    ),
    "SUCCESSFULLY_DELIVERED": (
        "delivered",
        ("Delivered", "Delivered", "Your parcel has been delivered", "Delivered",
         "Enjoy your order!"),
        ("Zugestellt", "Zugestellt", "Dein Paket wurde zugestellt", "Zugestellt",
         "Viel Freude mit deiner Bestellung!"),
    ),
    "RETURN_CREATED": (
        "return_created",
        ("Return registered", "Return registered", "Your return has been registered",
         "Return registered", "Hand the parcel to the carrier to send it back."),
        ("Retoure angemeldet", "Retoure angemeldet", "Deine Retoure wurde angemeldet",
         "Retoure angemeldet", "Gib das Paket beim Versanddienstleister ab."),
    ),
    "RETURN_IN_TRANSIT": (
        "return_transit",
        ("Return on its way", "Return in transit", "Your return is on its way",
         "Return in transit", "It is on its way back to us."),
        ("Retoure unterwegs", "Retoure unterwegs", "Deine Retoure ist unterwegs",
         "Retoure unterwegs", "Sie ist auf dem Weg zurück zu uns."),
    ),
    "RETURN_RECEIVED": (
        "return_received",
        ("Return received", "Return received", "We have received your return",
         "Return received", "Your refund is being processed."),
        ("Retoure erhalten", "Retoure eingegangen", "Wir haben deine Retoure erhalten",
         "Retoure erhalten", "Deine Erstattung wird bearbeitet."),
    ),
    "RETURNED_TO_SENDER": (
        "returned",
        ("Returned", "Returned to sender", "Your parcel is going back to the shop",
         "Returned to sender", "The carrier could not deliver it and is sending it back."),
        ("Zurückgesendet", "An den Absender zurück", "Dein Paket geht an den Shop zurück",
         "An den Absender zurück",
         "Der Versanddienstleister konnte es nicht zustellen und schickt es zurück."),
    ),
}
# fmt: on

EVENT_KEYS: tuple[str, ...] = tuple(_EVENTS)
_STRING_NAMES = ("event_status", "list_label", "header_headline", "header_title", "header_subtitle")

# phase -> the tracking state it puts the shipment in (GoKarla's StateEnum).
_STATES = {
    "order_created": "pending",
    "order_processed": "pending",
    "in_transit": "transit",
    "in_delivery": "transit",
    "delivery_failed": "transit",
    "collect": "collect",
    "delivered": "delivered",
    "return_created": "delivered",
    "return_transit": "transit",
    "return_failed": "transit",
    "return_received": "returned",
    "returned": "returned",
}

# What the auto-advance does next, by the newest event's key (a plausible carrier's day).
_NEXT_STEP = {
    "ORDER_CREATED": "ORDER_IN_PROCESSING",
    "ORDER_IN_PROCESSING": "PARCEL_HANDED_TO_CARRIER",
    "PARCEL_HANDED_TO_CARRIER": "ARRIVAL_AT_TRANSPORT_HUB",
    "ARRIVAL_AT_TRANSPORT_HUB": "DEPARTURE_FROM_TRANSPORT_HUB",
    "DEPARTURE_FROM_TRANSPORT_HUB": "OUT_FOR_DELIVERY",
    "SHIPMENT_DELAYED": "ARRIVAL_AT_TRANSPORT_HUB",
    "OUT_FOR_DELIVERY": "SUCCESSFULLY_DELIVERED",
    "DELIVERY_ATTEMPTED": "OUT_FOR_DELIVERY",
    "READY_FOR_COLLECTION": "SUCCESSFULLY_DELIVERED",
    "RETURN_CREATED": "RETURN_IN_TRANSIT",
    "RETURN_IN_TRANSIT": "RETURN_RECEIVED",
}


def phase_of(key: str) -> str:
    return _EVENTS[key][0]


def event_strings(key: str, language: str) -> dict[str, str]:
    _, english, german = _EVENTS[key]
    return dict(zip(_STRING_NAMES, german if language == "de" else english, strict=True))


def localized(event: dict[str, Any], language: str) -> dict[str, Any]:
    """The event with its ``event_strings`` and ``language`` in ``language``."""
    if event["language"] == language:
        return event
    strings = event_strings(event["event_key"], language)
    return {**event, "event_strings": strings, "language": language}


def state_for(events: list[dict[str, Any]]) -> str:
    return _STATES[events[-1]["phase"]] if events else "pending"


def flag_for(events: list[dict[str, Any]]) -> str:
    """``error`` after a failed delivery, ``delay`` while a reported delay is not resolved by
    a final phase, else ``normal``."""
    if not events:
        return "normal"
    phase = events[-1]["phase"]
    if phase in ("delivery_failed", "return_failed"):
        return "error"
    delayed = any(event["event_key"] == "SHIPMENT_DELAYED" for event in events)
    return "delay" if delayed and phase not in FINAL_PHASES | {"collect"} else "normal"


def is_final(events: list[dict[str, Any]]) -> bool:
    if not events:
        return False
    return events[-1]["phase"] in FINAL_PHASES or events[-1]["event_key"] == "ORDER_CANCELLED"


def next_step(events: list[dict[str, Any]]) -> str | None:
    """The event key a plausible next scan adds, or None when the shipment is done."""
    if is_final(events):
        return None
    return _NEXT_STEP.get(events[-1]["event_key"]) if events else "ORDER_CREATED"


def webhook_event_ref(key: str) -> str:
    """The webhook event ref: ``shipments/{phase}/{EVENT_NAME}``."""
    return f"shipments/{phase_of(key)}/{key}"


def direction_of(key: str) -> str:
    return "customer_merchant" if phase_of(key) in RETURN_PHASES else "merchant_customer"
