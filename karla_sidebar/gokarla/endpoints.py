"""Which GoKarla URLs an admin may connect, and the API root and shop slug each one means.

The URL an admin types is untrusted: it decides where the server sends an API token. So the
rules are strict (https, an allowed host, nothing but scheme and host) and the accepted
origin is rebuilt from the validated host rather than passed through, so no quirk of one URL
parser or another can smuggle a different destination past these checks.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from .errors import InvalidGoKarlaURL, InvalidInput

GOKARLA_DOMAIN = "gokarla.io"
GOKARLA_API_HOST = f"api.{GOKARLA_DOMAIN}"

_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
# What inet_aton and the WHATWG URL parser read as a number: decimal, octal or 0x-hex.
_NUMERIC_LABEL = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)")
_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")

_EXAMPLE = "https://your-shop.gokarla.io"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A validated GoKarla origin and what follows from it.

    ``url`` is the normalised origin (no trailing slash); ``notes`` says, in words an admin
    can read, what was changed on the way (for example a removed trailing slash).
    """

    url: str
    api_root: str
    shop_slug: str
    notes: tuple[str, ...] = ()


def endpoint_from_url(
    url: str,
    *,
    username: str,
    allowed_hosts: Iterable[str] | None = None,
    sandbox_url: str | None = None,
) -> Endpoint:
    """Validate a GoKarla URL and derive its API root and shop slug.

    ``allowed_hosts`` defaults to ``GOKARLA_ALLOWED_HOSTS``. ``sandbox_url`` defaults to
    ``SANDBOX_URL`` while ``SANDBOX_ENABLED`` is on; pass ``""`` to allow no sandbox.
    Raises ``InvalidGoKarlaURL`` (or ``InvalidInput`` for an unusable username).
    """
    if allowed_hosts is None:
        allowed_hosts = settings.GOKARLA_ALLOWED_HOSTS
    if sandbox_url is None:
        sandbox_url = settings.SANDBOX_URL if settings.SANDBOX_ENABLED else ""

    if not isinstance(url, str) or not url.strip():
        raise InvalidGoKarlaURL()
    notes = []
    cleaned = url.strip()
    if cleaned != url:
        notes.append("Removed the surrounding spaces.")
    if cleaned.endswith("/"):
        cleaned = cleaned.rstrip("/")
        notes.append("Removed the trailing slash.")

    sandbox_origin = sandbox_url.strip().rstrip("/")
    if sandbox_origin and cleaned == sandbox_origin:
        return Endpoint(
            url=sandbox_origin,
            api_root=f"{sandbox_origin}/api/v1",
            shop_slug=_slug_from_username(username),
            notes=tuple(notes),
        )

    host = _validated_host(cleaned)
    origin = f"https://{host}"
    if origin != cleaned:
        notes.append("Wrote the address in lower case.")
    patterns = _normalised_patterns(allowed_hosts)
    if not any(_host_matches(host, pattern) for pattern in patterns):
        shown = ", ".join(patterns) or "none"
        raise InvalidGoKarlaURL(
            f"Only GoKarla addresses ({shown}) can be connected. Enter your shop's GoKarla "
            f"URL, for example {_EXAMPLE}."
        )

    if host == GOKARLA_API_HOST:
        api_root, slug = f"{origin}/v1", _slug_from_username(username)
    elif _host_matches(host, f"*.{GOKARLA_DOMAIN}"):
        api_root, slug = f"{origin}/api/v1", host.split(".", 1)[0]
    else:
        api_root, slug = f"{origin}/api/v1", _slug_from_username(username)
    return Endpoint(url=origin, api_root=api_root, shop_slug=slug, notes=tuple(notes))


def _validated_host(url: str) -> str:
    """The lower-cased host of an https URL that is nothing but scheme and host."""
    if any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in url):
        raise InvalidGoKarlaURL("Remove the spaces and line breaks from the GoKarla URL.")
    if "\\" in url:
        raise InvalidGoKarlaURL("Remove the backslash from the GoKarla URL.")
    scheme, separator, rest = url.partition("://")
    if not separator or scheme.lower() != "https":
        raise InvalidGoKarlaURL(f"GoKarla URLs start with https://, for example {_EXAMPLE}.")
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if "@" in authority:
        # Never echo this part back: it may hold a password.
        raise InvalidGoKarlaURL(
            "Remove the user name and password from the URL; enter them in the Username and "
            "API Token fields instead."
        )
    if authority.startswith("["):
        raise InvalidGoKarlaURL("Use your shop's address, not an IP address.")
    if ":" in authority:
        raise InvalidGoKarlaURL(
            f"Remove the port (the ':' and number after the host): GoKarla URLs have none, "
            f"for example {_EXAMPLE}."
        )
    after_host = rest[len(authority) :]
    if after_host.startswith("?"):
        raise InvalidGoKarlaURL("Remove the query (the part from '?') from the GoKarla URL.")
    if after_host.startswith("#"):
        raise InvalidGoKarlaURL("Remove the fragment (the part from '#') from the GoKarla URL.")
    if after_host:
        raise InvalidGoKarlaURL(f"Remove the path: enter only the address, for example {_EXAMPLE}.")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise InvalidGoKarlaURL() from None
    host = authority.lower()
    if not host or parts.hostname != host:
        raise InvalidGoKarlaURL()
    if not host.isascii():
        raise InvalidGoKarlaURL(
            "Use the plain address: GoKarla addresses contain only letters, digits, hyphens "
            "and dots."
        )
    labels = host.split(".")
    if _is_ip_address(host, labels):
        raise InvalidGoKarlaURL("Use your shop's address, not an IP address.")
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise InvalidGoKarlaURL(
            "That is not a valid address: GoKarla addresses contain only letters, digits, "
            f"hyphens and dots, for example {_EXAMPLE}."
        )
    return host


def _is_ip_address(host: str, labels: list[str]) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        # Browsers and inet_aton read a host ending in a number (127.1, 0x7f.1, 2130706433)
        # as an IPv4 address; so does this check.
        last = labels[-2] if len(labels) > 1 and not labels[-1] else labels[-1]
        return _NUMERIC_LABEL.fullmatch(last) is not None
    return True


def _normalised_patterns(allowed_hosts: Iterable[str]) -> list[str]:
    return [p.strip().lower().rstrip(".") for p in allowed_hosts if p and p.strip()]


def _host_matches(host: str, pattern: str) -> bool:
    """``*.example.com`` matches exactly one label in front of ``example.com``."""
    if pattern.startswith("*."):
        label, dot, parent = host.partition(".")
        return bool(label) and bool(dot) and parent == pattern[2:]
    return host == pattern


def _slug_from_username(username: str) -> str:
    slug = username.strip() if isinstance(username, str) else ""
    if not slug:
        raise InvalidInput("Enter the username: for this GoKarla URL it is your shop's slug.")
    if not _SLUG.fullmatch(slug):
        raise InvalidInput(
            "For this GoKarla URL the username must be your shop's slug: letters, digits, "
            "hyphens, dots and underscores only."
        )
    return slug
