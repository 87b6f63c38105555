"""The demo: an ArminCX-like conversation page with the sidebar embedded, and what `make run`
prints. Only with DEBUG on.

The host page is served on ``localhost`` and the sidebar on ``127.0.0.1``, so the iframe is
cross-site exactly as it is inside ArminCX (third-party cookies do not reach it).
"""

from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.models import Workspace
from karla_sidebar.armincx import launch_token_mint
from karla_sidebar.languages import supported_language

DEMO_PASSWORD = "karla-demo"  # noqa: S105 (the documented demo login, seeded only with DEBUG on)
DEMO_WORKSPACE = "demo"
DEMO_CONVERSATION = {
    "agent_id": "a-1",
    "agent_name": "Ada Agent",
    "conversation": "c-1001",
    "customer_email": "jane@example.com",
    "tz": "Europe/Berlin",
}


def _demo_workspace() -> Workspace:
    if not settings.DEBUG:
        raise Http404("The demo is only available in development.")
    workspace = Workspace.objects.filter(slug=DEMO_WORKSPACE).first()
    if workspace is None:
        raise Http404("Run `make run` (or `python manage.py seed_demo`) to create the demo.")
    return workspace


def _launch_token(workspace: Workspace, request) -> str:
    """What ArminCX would sign for this conversation; ``?locale=de`` plays an agent whose
    ArminCX is in German (the demo workspace's own default stays English)."""
    locale = supported_language(request.GET.get("locale", ""))
    return launch_token_mint(workspace=workspace, locale=locale, **DEMO_CONVERSATION)


@require_GET
def conversation(request):
    workspace = _demo_workspace()
    host, _, port = request.get_host().partition(":")
    port = port or "80"
    if host != "localhost":
        # The host page must be on another site than the sidebar (127.0.0.1).
        return HttpResponseRedirect(f"http://localhost:{port}{request.get_full_path()}")
    sidebar_origin = f"http://127.0.0.1:{port}"
    token = _launch_token(workspace, request)
    sidebar_src = f"{sidebar_origin}{reverse('sidebar:launch')}?{urlencode({'token': token})}"
    locale = supported_language(request.GET.get("locale", ""))
    context = {
        "sidebar_src": sidebar_src,
        "sidebar_origin": sidebar_origin,
        "token_url": f"{reverse('demo-launch-token')}?{urlencode({'locale': locale})}",
    }
    with translation.override(locale or "en"):  # the demo ArminCX: English unless asked
        response = render(request, "demo/conversation.html", context)
    response._csp_update = {"frame-src": [sidebar_origin]}
    return response


@never_cache
@require_GET
def launch_token(request):
    """The host's side of resuming (README, "Host messages"): a fresh launch token for the
    demo conversation, which the page posts to the sidebar as ``karla:launch-token``. Only
    the host page's own origin asks (same-origin fetch; the sidebar never calls this)."""
    workspace = _demo_workspace()
    return JsonResponse({"token": _launch_token(workspace, request)})


def demo_banner(app_url: str) -> str:
    return "\n".join(
        [
            "",
            "Karla Sidebar demo is running. Ctrl-C stops it.",
            f"  Demo conversation: http://localhost:8000{reverse('demo-conversation')}",
            f"    in German:       http://localhost:8000{reverse('demo-conversation')}?locale=de",
            f"  Admin login:       {app_url}{reverse('login')}",
            f"    admin / {DEMO_PASSWORD} (workspace admin), lead / {DEMO_PASSWORD} (support lead)",
            f"  Accounts tab:      {app_url}{reverse('accounts:gokarla-accounts')}",
            f"  Lookup history:    {app_url}{reverse('history:list')}",
            "  GoKarla sandbox:   http://127.0.0.1:8001 (demo-shop / karla-demo-token);",
            "                     a demo shipment moves along every minute (order 1001's first):",
            "                     keep its card open and watch it update.",
            "  Workflow API key:  karla_demo_api_key",
            "",
        ]
    )
