"""The GoKarla client: validated endpoints, typed records and one error hierarchy.

Everything the rest of Karla Sidebar needs is importable from here::

    from karla_sidebar.gokarla import GoKarlaClient, endpoint_candidates, GoKarlaError

The outbound edge imports nothing of the app and nothing of Django but its translation
functions (the errors' messages are read by people): the allowed hosts, the sandbox and the
time limits come from the caller.
"""

from .client import GoKarlaClient, first_answering, gokarla_language
from .endpoints import (
    Candidates,
    Endpoint,
    SlugSource,
    endpoint_candidates,
    endpoint_for_account,
)
from .errors import (
    AccessDenied,
    CredentialsRejected,
    GoKarlaError,
    InvalidGoKarlaURL,
    InvalidInput,
    InvalidShopSlug,
    NotFound,
    NotGoKarlaAPI,
    NoTrackingYet,
    OrderNotFound,
    RateLimited,
    ShipmentNotFound,
    ShopNotFound,
    TimedOut,
    TokenRevoked,
    TokenUnreadable,
    Unavailable,
    UnexpectedResponse,
    WebhookNotFound,
)
from .records import (
    Address,
    Discount,
    Eta,
    EventInfo,
    LineItem,
    Order,
    OrderStatus,
    Pickup,
    Shipment,
    ShipmentStatus,
    Shop,
    TrackingEvent,
    Webhook,
    WebhookEvent,
    tracking_key,
)

__all__ = [
    "AccessDenied",
    "Address",
    "Candidates",
    "CredentialsRejected",
    "Discount",
    "Endpoint",
    "Eta",
    "EventInfo",
    "GoKarlaClient",
    "GoKarlaError",
    "InvalidGoKarlaURL",
    "InvalidInput",
    "InvalidShopSlug",
    "LineItem",
    "NoTrackingYet",
    "NotFound",
    "NotGoKarlaAPI",
    "Order",
    "OrderNotFound",
    "OrderStatus",
    "Pickup",
    "RateLimited",
    "Shipment",
    "ShipmentNotFound",
    "ShipmentStatus",
    "Shop",
    "ShopNotFound",
    "SlugSource",
    "TimedOut",
    "TokenRevoked",
    "TokenUnreadable",
    "TrackingEvent",
    "Unavailable",
    "UnexpectedResponse",
    "Webhook",
    "WebhookEvent",
    "WebhookNotFound",
    "endpoint_candidates",
    "endpoint_for_account",
    "first_answering",
    "gokarla_language",
    "tracking_key",
]
