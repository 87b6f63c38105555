"""The agent sidebar, framed by ArminCX in each conversation.

``launch`` checks ArminCX's signed launch token and renders the sidebar with a short-lived
sidebar token; every later request sends that token in a header (no cookies, so the sidebar
works with third-party cookies blocked, and CSRF cannot apply: nothing is ambient).
"""

import logging
from datetime import UTC, datetime
from functools import lru_cache
from urllib.parse import urlencode

from django import forms
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import get_script_prefix, reverse
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.text import slugify
from django.utils.translation import get_language, gettext, gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from accounts import selectors
from accounts.errors import NotInWorkspace
from accounts.reply_templates import reply_template_texts
from accounts.timezones import zone_or_none
from karla_sidebar import lookups
from karla_sidebar.errors import LOOKUP_ERRORS, InvalidRequest
from karla_sidebar.gokarla import (
    NotFound,
    Order,
    Shipment,
    gokarla_language,
)
from karla_sidebar.http_errors import status_for
from karla_sidebar.languages import browser_language
from karla_sidebar.launch import LaunchRefused, launch_token_verify
from karla_sidebar.models import LookupRecord
from karla_sidebar.replies import reply_text
from karla_sidebar.security import sidebar_frame_origins, sidebar_frameable
from karla_sidebar.shipment_index import record_versions, shipment_index_changed
from karla_sidebar.sidebar_access import (
    session_expired_html,
    sidebar_session_checked,
    sidebar_session_required,
)
from karla_sidebar.sidebar_session import (
    SIDEBAR_TOKEN_HEADER,
    SidebarSession,
    sidebar_session_start,
    sidebar_token_issue,
)

logger = logging.getLogger("karla_sidebar.sidebar")

PAGE = "sidebar/sidebar.html"
MAX_REFERENCE = 200
MAX_LIVE_SHIPMENTS = 50


class LookupForm(forms.Form):
    reference = forms.CharField(
        max_length=MAX_REFERENCE,
        strip=True,
        error_messages={
            "required": gettext_lazy("Enter a reference to look up."),
            "max_length": gettext_lazy(
                "That is too long for a reference (at most %(limit_value)d characters)."
            ),
        },
    )
    account = forms.CharField(required=False, max_length=20)
    refresh = forms.BooleanField(required=False)


@lru_cache(maxsize=8)  # the prefix comes with the request (SCRIPT_NAME): keep a few
def _urls(script_prefix: str) -> dict[str, str]:
    """The sidebar's own URLs (``customer-orders`` as ``customer_orders``), reversed once per
    script prefix: ``reverse`` is slow next to the rest of rendering a card, and a card of
    customer orders would need one a row (docs/performance.md, finding 4)."""
    names = ("order", "shipment", "customer-orders", "renew", "live", "resume")
    return {name.replace("-", "_"): reverse(f"sidebar:{name}") for name in names}


def _render(request, name: str, context: dict, *, status: int = 200):
    """Render in the agent's time zone (from the launch), falling back to the server's, with
    ``urls`` (the sidebar's URLs) and, for an action, ``action_url`` (its URL).

    Lookup errors are cards answered with 200 (an invalid form with 422, which the sidebar's
    htmx configuration swaps in too).
    """
    urls = _urls(get_script_prefix())
    context = {**context, "urls": urls, "action_url": urls.get(context.get("action", ""), "")}
    tz = zone_or_none(request.sidebar.tz) if hasattr(request, "sidebar") else None
    with timezone.override(tz or timezone.get_current_timezone()):
        return render(request, name, context, status=status)


@sidebar_frameable
@never_cache  # the page holds the agent's session token
@require_GET
def launch(request):
    try:
        claims = launch_token_verify(request.GET.get("token", ""))
        session = sidebar_session_start(claims, browser_language=browser_language(request))
    except LaunchRefused:
        return render(request, "sidebar/launch-refused.html", status=401)
    request.sidebar = session
    workspace = selectors.workspace_by_slug(slug=session.workspace_slug)
    accounts = list(selectors.account_list(workspace=workspace))
    default = next((a for a in accounts if a.is_default), accounts[0] if accounts else None)
    with translation.override(session.language):
        response = _render(
            request,
            PAGE,
            {
                "sidebar_token": sidebar_token_issue(session),
                "session": session,
                "workspace": workspace,
                "accounts": accounts,
                "default_account": default,
                # The app's own origin too: the Sidebar tab's test sidebar is framed there.
                "host_origins": [
                    *sidebar_frame_origins(),
                    request.build_absolute_uri("/").rstrip("/"),
                ],
            },
        )
        response["Content-Language"] = session.language
    return response


def _actor(session: SidebarSession, *, automatic: bool = False) -> lookups.Actor:
    """The agent, or (``automatic``) the sidebar asking on the agent's behalf."""
    return lookups.Actor(
        source=LookupRecord.Source.SIDEBAR,
        actor_id=session.agent_id,
        actor_name=session.agent_name,
        conversation=session.conversation,
        customer_email=session.customer_email,
        language=gokarla_language(get_language()),
        automatic=automatic,
    )


def _run(request, action: str, lookup):
    form = LookupForm(request.POST)
    context = {"action": action, "session": request.sidebar}
    if not form.is_valid():
        error = InvalidRequest(next(iter(form.errors.values()))[0])
        lookups.lookup_refused(
            workspace=request.workspace,
            action=action,
            reference=request.POST.get("reference", ""),
            actor=_actor(request.sidebar),
            error=error,
        )
        return _render(request, f"{PAGE}#error", {**context, "error": error}, status=422)
    data = form.cleaned_data
    context.update(reference=data["reference"], account=data["account"])
    try:
        result = lookup(
            workspace=request.workspace,
            reference=data["reference"],
            account=data["account"] or None,
            actor=_actor(request.sidebar),
            use_cache=not data["refresh"],
        )
    except LOOKUP_ERRORS as error:
        several = selectors.account_list(workspace=request.workspace).count() > 1
        return _render(
            request,
            f"{PAGE}#error",
            {
                **context,
                "error": error,
                "offer_all": several and error.code == "not_found" and data["account"] != "all",
            },
        )
    except NotInWorkspace as not_this_workspaces:
        error = InvalidRequest(gettext("That GoKarla account is not connected to this workspace."))
        status = status_for(not_this_workspaces)
        return _render(request, f"{PAGE}#error", {**context, "error": error}, status=status)
    return _render_result(request, context, result)


def _render_result(request, context: dict, result: lookups.LookupResult, *, updated=False):
    urls = _urls(get_script_prefix())
    templates = reply_template_texts(workspace=request.workspace, language=get_language())
    agent = request.sidebar.agent_name
    hits = [
        {
            "hit": hit,
            "reply": reply_text(hit.record, templates=templates, agent_name=agent),
            "reply_id": f"reply-{hit.account_id}-{slugify(_reference(hit.record))}",
            "live_url": _live_url(urls, result, hit),
        }
        for hit in result.hits
    ]
    context = {
        **context,
        "result": result,
        "hits": hits,
        "updated": updated,
        # What the workspace keeps from its agents (the Sidebar tab): each section is shown
        # unless hidden here.
        "hides": {name: not on for name, on in request.workspace.sidebar_sections.items()},
    }
    return _render(request, f"{PAGE}#result", context)


def _live_url(urls: dict, result: lookups.LookupResult, hit: lookups.Hit) -> str:
    """Where the card asks, every few seconds, whether GoKarla has told of something newer
    about its shipments (webhooks, the sync): the app, never GoKarla, is polled."""
    versions = record_versions(hit.record)
    if not versions:
        return ""
    query = {
        "action": result.action,
        "account": hit.account_id,
        "reference": _reference(hit.record),
        "since": int(hit.fetched_at.timestamp() * 1000),
        "v": ",".join(f"{shipment_id}:{version}" for shipment_id, version in versions.items()),
    }
    return f"{urls['live']}?{urlencode(query)}"


def _reference(record: Order | Shipment) -> str:
    """What finds this record again at GoKarla."""
    if isinstance(record, Order):
        return record.uuid or record.order_number or record.order_name
    return record.tracking_number or record.id


class LiveForm(forms.Form):
    action = forms.ChoiceField(choices=[("order", "order"), ("shipment", "shipment")])
    account = forms.IntegerField(min_value=1)
    reference = forms.CharField(max_length=MAX_REFERENCE)
    since = forms.IntegerField(min_value=0)
    v = forms.CharField(max_length=4000)

    def clean_v(self) -> dict[str, int]:
        versions = {}
        for item in self.cleaned_data["v"].split(",")[:MAX_LIVE_SHIPMENTS]:
            shipment_id, _, version = item.rpartition(":")
            if not (shipment_id and version.isdigit()):
                raise forms.ValidationError("Not a list of shipment versions.")
            versions[shipment_id] = int(version)
        return versions


@sidebar_frameable
@require_POST
@sidebar_session_required
def order(request):
    return _run(request, "order", lookups.order_lookup)


@sidebar_frameable
@require_POST
@sidebar_session_required
def shipment(request):
    return _run(request, "shipment", lookups.shipment_lookup)


@sidebar_frameable
@require_POST
@sidebar_session_required
def customer_orders(request):
    session = request.sidebar
    context = {"session": session}
    if not session.customer_email:
        return _render(request, f"{PAGE}#customer-orders", {**context, "hits": []})
    try:
        result = lookups.customer_orders_lookup(
            workspace=request.workspace,
            email=session.customer_email,
            actor=_actor(session, automatic=True),
        )
    except NotFound:  # "No orders found for this customer.", not a lookup's not-found card
        return _render(request, f"{PAGE}#customer-orders", {**context, "hits": []})
    except LOOKUP_ERRORS as error:
        return _render(request, f"{PAGE}#customer-orders", {**context, "error": error})
    several = len(result.accounts_searched) > 1  # then each order says which account it is in
    return _render(
        request,
        f"{PAGE}#customer-orders",
        {**context, "hits": result.hits, "several_accounts": several},
    )


@sidebar_frameable
@require_GET
@sidebar_session_checked
def live(request):
    """A card's question: has anything of its shipments changed? 204 when not (the usual
    answer, one indexed query); else the card again, from GoKarla, marked as updated."""
    form = LiveForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest("Invalid live-update request.")
    data = form.cleaned_data
    account = selectors.account_get(workspace=request.workspace, account_id=data["account"])
    since = datetime.fromtimestamp(data["since"] / 1000, tz=UTC)
    if not shipment_index_changed(account=account, versions=data["v"], since=since):
        return HttpResponse(status=204)
    action = data["action"]
    lookup = lookups.shipment_lookup if action == "shipment" else lookups.order_lookup
    try:
        result = lookup(
            workspace=request.workspace,
            reference=data["reference"],
            account=account.pk,
            actor=_actor(request.sidebar, automatic=True),
            use_cache=False,
        )
    except LOOKUP_ERRORS:
        return HttpResponse(status=204)  # keep the card as it is; the next question retries
    context = {"action": action, "session": request.sidebar, "reference": data["reference"]}
    return _render_result(request, context, result, updated=True)


@sidebar_frameable
@require_POST
@sidebar_session_required
def renew(request):
    """Keeps the sidebar token fresh while the agent is active (the header carries it)."""
    return _render(request, f"{PAGE}#empty", {})


@sidebar_frameable
@never_cache
@csrf_exempt  # no cookie authenticates here: the launch token in the body does
@require_POST
def resume(request):
    """The session ended; the host (ArminCX) sent a fresh launch token (README, "Host
    messages"): the same page goes on with a new sidebar token in the response header."""
    try:
        claims = launch_token_verify(request.POST.get("token", ""))
        session = sidebar_session_start(claims, browser_language=browser_language(request))
    except LaunchRefused:
        response = HttpResponse(session_expired_html(), status=401)
    else:
        response = HttpResponse(status=204)
        response[SIDEBAR_TOKEN_HEADER] = sidebar_token_issue(session)
    patch_vary_headers(response, [SIDEBAR_TOKEN_HEADER])
    return response
