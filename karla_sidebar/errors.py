"""The app's own refusals of a lookup, apart from GoKarla's errors (``karla_sidebar.gokarla``):
input the app does not accept, no account connected, a rate limit of the app's.

Each carries the message a person reads and a stable ``code`` from the same vocabulary as
GoKarla's errors (the lookup history's outcome, the workflow API's error code), so that views
show either kind the same way: ``except LOOKUP_ERRORS as error``, then ``error.message``.
"""

from django.utils.translation import gettext_lazy

from karla_sidebar.gokarla import GoKarlaError


class LookupRefused(Exception):
    code = ""
    default_message = ""
    # GoKarla's HTTP status: none, GoKarla was not asked.
    status_code = None

    def __init__(self, message: str | None = None):
        self.message = message or self.default_message
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class InvalidRequest(LookupRefused):
    """A form or request body the app does not accept (the message says what to fix)."""

    code = "invalid_input"


class NoAccountConnected(LookupRefused):
    code = "no_account"
    default_message = gettext_lazy(
        "No GoKarla account is connected to this workspace yet. An admin can connect one "
        "under Settings → Integrations → GoKarla."
    )


class TooManyRequests(LookupRefused):
    """A rate limit of the app's own (an API key's, the sidebar's GoKarla budget)."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: float):
        super().__init__(message)
        self.retry_after = retry_after


# What a lookup may raise, and a view shows.
LOOKUP_ERRORS = (GoKarlaError, LookupRefused)
