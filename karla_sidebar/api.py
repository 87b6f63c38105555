"""The workflow API: Get Order and Get Shipment for ArminCX automations (server to server).

``POST /api/v1/actions/get-order`` and ``…/get-shipment`` with ``{"reference": "…",
"account": "<id>" | "all"}`` and ``Authorization: Bearer <workflow API key>``. The same
lookups service as the sidebar (cache and history shared). Errors are
``{"error": {"code": "…", "message": "…"}}`` with the status ``http_errors`` gives their
code; the OpenAPI document (openapi.py) lists them.
"""

import json
import math

from django.conf import settings
from django.http import JsonResponse
from django.utils.translation import get_language, gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from accounts.api_keys import api_key_authenticate
from accounts.errors import NotInWorkspace
from accounts.models import ApiKey
from core.ratelimit import rate_limit_hit
from karla_sidebar import lookups
from karla_sidebar.errors import LOOKUP_ERRORS, InvalidRequest, LookupRefused, TooManyRequests
from karla_sidebar.gokarla import gokarla_language
from karla_sidebar.http_errors import status_for
from karla_sidebar.models import LookupRecord
from karla_sidebar.openapi import openapi_document
from karla_sidebar.serializers import order_json, resolution_json, shipment_json, source_json

MAX_BODY_BYTES = 8 * 1024
FIELDS = {"reference", "account", "customer_email"}
MAX_EMAIL = 254


def error_response(status: int, code: str, message: str, **headers) -> JsonResponse:
    response = JsonResponse({"error": {"code": code, "message": message}}, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _bearer_key(request) -> ApiKey | None:
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return api_key_authenticate(key=key.strip())


def _parse_body(request) -> dict:
    """The request's JSON object, or InvalidRequest saying what is wrong with it."""
    if request.content_type != "application/json":
        raise InvalidRequest(
            gettext("Send the body as JSON with the header Content-Type: application/json.")
        )
    if len(request.body) > MAX_BODY_BYTES:
        raise InvalidRequest(
            gettext("The body is too large (at most %(limit)s bytes).") % {"limit": MAX_BODY_BYTES}
        )
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError):
        # RecursionError: JSON nested thousands of levels deep ([[[[…]]]]).
        raise InvalidRequest(gettext("The body is not valid JSON.")) from None
    if not isinstance(body, dict):
        raise InvalidRequest(
            gettext('The body must be a JSON object such as {"reference": "1001"}.')
        )
    if any(_not_text(item) for pair in body.items() for item in pair):
        raise InvalidRequest(
            gettext(
                "The body holds text that is not valid Unicode (a lone surrogate such as \\ud800)."
            )
        )
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise InvalidRequest(
            gettext("Unknown field(s): %(fields)s. Allowed: account, customer_email, reference.")
            % {"fields": ", ".join(unknown)}
        )
    reference = body.get("reference")
    if isinstance(reference, int) and not isinstance(reference, bool):
        reference = str(reference)  # {"reference": 1001} means order 1001
    if not isinstance(reference, str) or not reference.strip():
        raise InvalidRequest(gettext('"reference" is required and must be a non-empty string.'))
    account = body.get("account")
    if isinstance(account, int) and not isinstance(account, bool):
        account = str(account)
    if account is not None and not isinstance(account, str):
        raise InvalidRequest(gettext('"account" must be an account id (a string) or "all".'))
    email = body.get("customer_email") or ""
    if not isinstance(email, str) or len(email) > MAX_EMAIL or (email and "@" not in email):
        raise InvalidRequest(gettext('"customer_email" must be an e-mail address.'))
    return {"reference": reference, "account": account or None, "customer_email": email.strip()}


def _not_text(value) -> bool:
    """A JSON string with a lone surrogate (``"\\ud800"``): valid JSON, but no text."""
    return isinstance(value, str) and any(0xD800 <= ord(char) <= 0xDFFF for char in value)


def _actor(api_key: ApiKey, customer_email: str = "") -> lookups.Actor:
    return lookups.Actor(
        source=LookupRecord.Source.WORKFLOW,
        actor_id=api_key.prefix,
        actor_name=api_key.name,
        customer_email=customer_email,
        # An automation that names the customer gets only that customer's orders.
        only_customer=bool(customer_email),
        language=gokarla_language(get_language()),
    )


def _action(request, action: str):
    """One workflow API call: authenticate the key, count it, read the body, look up, answer."""
    if request.method != "POST":
        return error_response(405, "method_not_allowed", gettext("Use POST."), Allow="POST")
    api_key = _bearer_key(request)
    if api_key is None:
        return error_response(
            401,
            "unauthorized",
            gettext("Send a valid workflow API key as 'Authorization: Bearer <key>'."),
            WWW_Authenticate='Bearer realm="karla-sidebar"',
        )
    try:
        _count_call(api_key)
        body = _request_body(request, api_key)
    except LookupRefused as error:
        lookups.lookup_refused(
            workspace=api_key.workspace,
            action=action,
            reference=_raw_reference(request),
            actor=_actor(api_key),
            error=error,
        )
        return _error(error)
    lookup = lookups.shipment_lookup if action == "shipment" else lookups.order_lookup
    try:
        result = lookup(
            workspace=api_key.workspace,
            reference=body["reference"],
            account=body["account"],
            actor=_actor(api_key, body["customer_email"]),
        )
    except (*LOOKUP_ERRORS, NotInWorkspace) as error:
        return _error(error)
    return JsonResponse(_result_json(action, result))


def _count_call(api_key: ApiKey) -> None:
    """Count the call against the key's rate limit; TooManyRequests over it."""
    wait = rate_limit_hit(
        key=f"api:{api_key.pk}",
        limit=settings.API_RATE_LIMIT,
        window=settings.API_RATE_LIMIT_WINDOW_SECONDS,
    )
    if wait is not None:
        raise TooManyRequests(
            gettext(
                "Too many requests for this API key (at most %(limit)s in %(seconds)s "
                "seconds). Try again after the Retry-After seconds."
            )
            % {
                "limit": settings.API_RATE_LIMIT,
                "seconds": settings.API_RATE_LIMIT_WINDOW_SECONDS,
            },
            retry_after=wait,
        )


def _request_body(request, api_key: ApiKey) -> dict:
    """The body's fields, checked as this key needs them; InvalidRequest otherwise."""
    body = _parse_body(request)
    if api_key.requires_customer_email and not body["customer_email"]:
        raise InvalidRequest(
            gettext(
                '"customer_email" is required with this API key: it answers only for the '
                "customer named."
            )
        )
    return body


def _result_json(action: str, result: lookups.LookupResult) -> dict:
    """The answer's body: the shipment found, or the newest of the orders found."""
    if action == "shipment":
        hit = result.first
        return {"shipment": shipment_json(hit.record), **source_json(hit), **resolution_json(hit)}
    newest = lookups.newest_first(result.hits)[0]
    return {"order": order_json(newest.record), "matches": len(result.hits), **source_json(newest)}


def _raw_reference(request) -> str:
    """Best effort, for the history row of a refused call: the reference if one can be read."""
    try:
        reference = json.loads(request.body[:MAX_BODY_BYTES]).get("reference", "")
    except (ValueError, AttributeError, UnicodeDecodeError, RecursionError):
        return ""
    return reference if isinstance(reference, str) else ""


def _error(error) -> JsonResponse:
    """A lookup error (GoKarla's, the app's own, ``NotInWorkspace``) as the API answers it."""
    headers = {}
    if error.code == LookupRecord.Outcome.RATE_LIMITED:  # GoKarla's or this API key's
        headers["Retry_After"] = str(max(1, math.ceil(error.retry_after or 60)))
    return error_response(status_for(error), error.code, error.message, **headers)


@csrf_exempt
@never_cache
def get_order(request):
    return _action(request, LookupRecord.Action.ORDER)


@csrf_exempt
@never_cache
def get_shipment(request):
    return _action(request, LookupRecord.Action.SHIPMENT)


@csrf_exempt  # a JSON 404 for any method: no CSRF page for a POST to a wrong path
def not_found(request, path=""):
    return error_response(
        404,
        "not_found",
        gettext("No such endpoint. See /api/v1/openapi.json for the API's operations."),
    )


def openapi(request):
    return JsonResponse(openapi_document(request.build_absolute_uri("/").rstrip("/")))
