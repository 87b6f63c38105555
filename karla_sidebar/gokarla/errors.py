"""One error hierarchy for everything that can go wrong talking to GoKarla.

Each error carries the message an agent or admin should read (following GoKarla's own
troubleshooting advice), a stable ``code`` used by the API and the lookup history, and the
HTTP status GoKarla answered with, when there was one. Messages never contain an upstream
body, socket text, or a credential. They are lazy translations: an error raised in a pool
thread reads in the language of the request that shows it.
"""

from django.utils.translation import gettext_lazy


class GoKarlaError(Exception):
    code = "unexpected_response"
    default_message = gettext_lazy("GoKarla sent a response Karla Sidebar could not understand.")

    def __init__(self, message: str | None = None, *, status_code: int | None = None):
        self.message = message or self.default_message
        self.status_code = status_code
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status_code={self.status_code!r})"


class InvalidInput(GoKarlaError):
    """The reference or URL is not something GoKarla can be asked about."""

    code = "invalid_input"
    default_message = gettext_lazy("That reference is not valid.")


class InvalidGoKarlaURL(InvalidInput):
    default_message = gettext_lazy(
        "Enter your GoKarla URL, for example https://your-shop.gokarla.io."
    )


class InvalidShopSlug(InvalidInput):
    default_message = gettext_lazy(
        "A shop slug contains only letters, digits, hyphens, dots and underscores, for example "
        "my-shop."
    )


class CredentialsRejected(GoKarlaError):
    code = "credentials_rejected"
    default_message = gettext_lazy(
        "GoKarla rejected the username or API token. Check both in GoKarla's portal "
        "(Settings → API keys) and enter them again."
    )


class TokenRevoked(CredentialsRejected):
    default_message = gettext_lazy(
        "GoKarla says this API token was revoked or has expired (it may have been "
        "regenerated). Create a new token in GoKarla's portal and enter it with Update token "
        "under Settings → Integrations → GoKarla."
    )


class AccessDenied(GoKarlaError):
    code = "access_denied"
    default_message = gettext_lazy(
        "GoKarla refused access: API access is not enabled for this key or plan, or the key "
        "belongs to another shop. Ask GoKarla support to enable API access."
    )


class NotFound(GoKarlaError):
    code = "not_found"
    default_message = gettext_lazy("GoKarla has no record with that reference.")


class ShopNotFound(NotFound):
    default_message = gettext_lazy(
        "GoKarla has no shop with this slug. Check the shop slug (under More options; without "
        "it, the slug is taken from the GoKarla URL or the username)."
    )


class OrderNotFound(NotFound):
    default_message = gettext_lazy(
        "No order with that number or reference in this GoKarla account."
    )


class ShipmentNotFound(NotFound):
    default_message = gettext_lazy(
        "No shipment with that ID or tracking number in this GoKarla account."
    )


class WebhookNotFound(NotFound):
    default_message = gettext_lazy(
        "GoKarla has no such webhook (it may have been deleted in GoKarla's portal)."
    )


class NoTrackingYet(GoKarlaError):
    code = "no_tracking_yet"
    default_message = gettext_lazy(
        "No tracking data yet: the shipment exists but no carrier has been assigned. "
        "Tracking appears once the parcel is handed to the carrier."
    )


class RateLimited(GoKarlaError):
    code = "rate_limited"
    default_message = gettext_lazy("GoKarla is limiting requests right now. Try again in a minute.")

    def __init__(
        self,
        message: str | None = None,
        *,
        status_code: int | None = 429,
        retry_after: float | None = None,
    ):
        super().__init__(message, status_code=status_code)
        self.retry_after = retry_after


class Unavailable(GoKarlaError):
    code = "unavailable"
    default_message = gettext_lazy("GoKarla is not available right now. Try again in a moment.")


class NotGoKarlaAPI(Unavailable):
    """The address answered, but not as GoKarla's API does: a route it does not have (FastAPI's
    404 ``{"detail": "Not Found"}``), a wrong method, a web page. Never "not found": the
    account's address is wrong (or GoKarla is behind something else), which counts as a failure
    for the circuit breaker."""

    code = "not_gokarla_api"
    default_message = gettext_lazy(
        "This address does not serve GoKarla's API (it has no such endpoint). Check the "
        "account's GoKarla URL."
    )


class TimedOut(Unavailable):
    code = "timeout"
    default_message = gettext_lazy("GoKarla did not answer in time. Try again in a moment.")


class UnexpectedResponse(GoKarlaError):
    code = "unexpected_response"
    default_message = gettext_lazy("GoKarla sent a response Karla Sidebar could not understand.")


class TokenUnreadable(CredentialsRejected):
    """The stored token cannot be decrypted with any configured key: never send ciphertext."""

    default_message = gettext_lazy(
        "The stored API token for this account cannot be read (the encryption key changed). "
        "An admin must enter the token again under Settings → Integrations → GoKarla."
    )
