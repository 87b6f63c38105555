"""Who may call the sidebar's views: a request with a valid sidebar token in its header.

Beside the views (``sidebar.py``) as ``accounts.access`` is beside the settings pages'. The
token itself is ``sidebar_session.py``'s.
"""

import logging
from functools import wraps

from django.conf import settings
from django.http import HttpResponse
from django.utils import translation
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.html import escape
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt

from karla_sidebar.sidebar_session import (
    SIDEBAR_TOKEN_HEADER,
    SidebarTokenInvalid,
    sidebar_token_issue,
    sidebar_token_load,
)

# The launch's log: refused launch and sidebar tokens read together.
logger = logging.getLogger("karla_sidebar.launch")


def session_expired_html() -> str:
    """The 401's body: the sidebar's script asks the host for a fresh launch token first
    (README, "Host messages") and shows this only when none comes."""
    message = gettext("Your sidebar session has expired. Reopen the conversation to continue.")
    return f'<div class="card alert alert-error" role="alert">{escape(message)}</div>'


def sidebar_session_required(view):
    """Let in only requests carrying a valid sidebar token in the X-Karla-Sidebar-Token header.

    Sets ``request.sidebar`` (the SidebarSession) and ``request.workspace``, and answers with
    a renewed token in the same response header. Cookies, Django sessions and query strings
    never authenticate here. The view is CSRF-exempt: a custom header cannot be sent
    cross-site without a CORS preflight we never grant, and the sidebar's cross-site iframe
    may not get Django's CSRF cookie at all.
    """
    return _sidebar_session(view, renew=True)


def sidebar_session_checked(view):
    """As ``sidebar_session_required``, but the token is not renewed: for requests the
    sidebar makes by itself (polling), which must not keep an idle agent's session alive."""
    return _sidebar_session(view, renew=False)


def _sidebar_session(view, *, renew: bool):
    @csrf_exempt
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        token = request.headers.get(SIDEBAR_TOKEN_HEADER, "")
        try:
            session, workspace = sidebar_token_load(token)
        except SidebarTokenInvalid as error:
            logger.info("sidebar token refused: %s", error)
            response = HttpResponse(session_expired_html(), status=401)
        else:
            request.sidebar = session
            request.workspace = workspace
            # The session's language, not the request's: chosen once, at launch.
            with translation.override(session.language or settings.LANGUAGE_CODE):
                response = view(request, *args, **kwargs)
                response.headers.setdefault("Content-Language", translation.get_language())
            if renew:
                response[SIDEBAR_TOKEN_HEADER] = sidebar_token_issue(session)
        # The answer depends on (and may carry) a bearer token: never cache it anywhere.
        patch_vary_headers(response, [SIDEBAR_TOKEN_HEADER])
        add_never_cache_headers(response)
        return response

    return wrapped
