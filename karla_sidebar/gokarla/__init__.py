"""The GoKarla client: validated endpoints, typed records and one error hierarchy.

Everything the rest of Karla Sidebar needs is importable from here::

    from karla_sidebar.gokarla import GoKarlaClient, endpoint_from_url, GoKarlaError
"""

from .client import GoKarlaClient
from .endpoints import Endpoint, endpoint_from_url
from .errors import (
    AccessDenied,
    CredentialsRejected,
    GoKarlaError,
    InvalidGoKarlaURL,
    InvalidInput,
    NoAccountConnected,
    NotFound,
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
)
from .records import (
    Address,
    Discount,
    Eta,
    LineItem,
    Order,
    OrderStatus,
    Shipment,
    ShipmentStatus,
    Shop,
    TrackingEvent,
)

__all__ = [
    "AccessDenied",
    "Address",
    "CredentialsRejected",
    "Discount",
    "Endpoint",
    "Eta",
    "GoKarlaClient",
    "GoKarlaError",
    "InvalidGoKarlaURL",
    "InvalidInput",
    "LineItem",
    "NoAccountConnected",
    "NoTrackingYet",
    "NotFound",
    "Order",
    "OrderNotFound",
    "OrderStatus",
    "RateLimited",
    "Shipment",
    "ShipmentNotFound",
    "ShipmentStatus",
    "Shop",
    "ShopNotFound",
    "TimedOut",
    "TokenRevoked",
    "TokenUnreadable",
    "TrackingEvent",
    "Unavailable",
    "UnexpectedResponse",
    "endpoint_from_url",
]
