"""Settings pages show times in the viewer's time zone.

The browser reports its IANA zone in the ``karla_tz`` cookie (set by karla.js); until it
has, pages use the server's ``TIME_ZONE``. The sidebar does not use this: its zone comes
from the launch token.
"""

import zoneinfo

from django.utils import timezone

COOKIE = "karla_tz"


class ViewerTimezoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = zone_or_none(request.COOKIES.get(COOKIE, ""))
        if zone is None:
            return self.get_response(request)
        with timezone.override(zone):
            return self.get_response(request)


def zone_or_none(name: str) -> zoneinfo.ZoneInfo | None:
    """The IANA time zone of that name; None for an empty, unknown or overlong name."""
    if not name or len(name) > 64:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None
