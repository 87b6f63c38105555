"""Errors as HTTP answers, in one place.

- ``STATUS_FOR_CODE``: every error code the workflow API answers with, and its HTTP status.
  The codes of lookup errors (GoKarla's, the app's own refusals, ``NotInWorkspace``) are the
  lookup history's outcomes (``LookupRecord.Outcome``); the API answers with this table, and
  its OpenAPI document lists these codes.
- ``as_http``: a domain error as the HTTP error a page answers with: an object that is not
  the workspace's (or does not exist) is a 404, as any missing page. The middleware here
  applies it to every view, ``sidebar_frameable`` to the sidebar's (which render their error
  pages themselves, to keep their framing headers).
"""

from django.http import Http404

from accounts.errors import NotInWorkspace

STATUS_FOR_CODE = {
    "invalid_input": 400,
    "unauthorized": 401,
    "not_found": 404,
    "no_tracking_yet": 404,
    "no_account": 409,
    "rate_limited": 429,
    "credentials_rejected": 502,
    "access_denied": 502,
    "unavailable": 502,
    "unexpected_response": 502,
    "not_gokarla_api": 502,
    "timeout": 504,
    "method_not_allowed": 405,
}


def status_for(error) -> int:
    """The HTTP status of a lookup error (anything with a ``code``); 502 for one unknown."""
    return STATUS_FOR_CODE.get(error.code, 502)


def as_http(error: Exception) -> Exception:
    """The exception Django should answer for ``error``: itself, unless a domain error."""
    if isinstance(error, NotInWorkspace):
        return Http404(error.message)
    return error


class NotInWorkspaceMiddleware:
    """A view's ``NotInWorkspace`` becomes Django's 404 (its page, its logging)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        converted = as_http(exception)
        if converted is not exception:
            raise converted from exception
        return None
