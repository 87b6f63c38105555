"""Who may frame what. Everything is DENY except views marked ``sidebar_frameable``.

The site-wide policy lives in settings (``X_FRAME_OPTIONS`` and django-csp's
``CONTENT_SECURITY_POLICY`` with ``frame-ancestors 'none'``). The sidebar alone may be
framed, by the ArminCX origins in ``SIDEBAR_FRAME_ANCESTORS``, plus the demo host page's
origin while DEBUG is on (the demo serves the host page on localhost and the sidebar on
127.0.0.1, so the iframe is cross-site just as it is inside ArminCX), and by the app's own
pages: the Sidebar tab frames a test sidebar.
"""

from functools import wraps

from csp.constants import SELF
from csp.decorators import csp_replace
from django.conf import settings
from django.core.handlers.exception import response_for_exception
from django.views.decorators.clickjacking import xframe_options_exempt

from karla_sidebar.http_errors import as_http

DEMO_HOST_ORIGINS = ("http://localhost:8000",)


def sidebar_frame_origins() -> list[str]:
    """The origins that may frame the sidebar, read from settings per request."""
    origins = list(settings.SIDEBAR_FRAME_ANCESTORS)
    if settings.DEBUG:
        origins += [origin for origin in DEMO_HOST_ORIGINS if origin not in origins]
    return origins


def sidebar_frame_ancestors() -> list[str]:
    """The CSP ``frame-ancestors`` sources for the sidebar: those origins, and the app's own
    pages (the Sidebar tab's test sidebar), whose origin can do all a frame could anyway."""
    return [SELF, *sidebar_frame_origins()]


def sidebar_frameable(view):
    """Let the configured ArminCX origins frame this view's responses, error pages included.

    Put it outermost, above ``sidebar_access.sidebar_session_required``, so the 401 is framable too.
    """

    def render(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except Exception as error:
            # Render the error page here, as Django would one layer up, so that it leaves
            # with the sidebar's framing headers and shows inside the iframe.
            return response_for_exception(request, as_http(error))

    @xframe_options_exempt
    @wraps(view)
    def framed(request, *args, **kwargs):
        policy = {"frame-ancestors": sidebar_frame_ancestors()}
        response = csp_replace(policy)(render)(request, *args, **kwargs)
        # The launch URL carries a token: no link or resource the sidebar loads may see it.
        response["Referrer-Policy"] = "no-referrer"
        return response

    return framed
