"""Which GoKarla URLs an admin may connect, and the API roots and shop slug each one means.

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

from django.utils.text import format_lazy
from django.utils.translation import gettext, gettext_lazy

from .errors import InvalidGoKarlaURL, InvalidInput, InvalidShopSlug

GOKARLA_DOMAIN = "gokarla.io"
GOKARLA_API_HOST = f"api.{GOKARLA_DOMAIN}"

_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
# What inet_aton and the WHATWG URL parser read as a number: decimal, octal or 0x-hex.
_NUMERIC_LABEL = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)")
_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")

_EXAMPLE = "https://your-shop.gokarla.io"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where the client sends its requests: an API root (no trailing slash) and a shop slug."""

    api_root: str
    shop_slug: str


class SlugSource:
    """Where a shop slug came from, so that a "no such shop" answer can say what to fix."""

    FIELD = "field"  # the Shop slug field under "More options"
    HOST = "host"  # https://{shop}.gokarla.io
    USERNAME = "username"  # GoKarla's default: the API key's name is the shop's slug


@dataclass(frozen=True, slots=True)
class Candidates:
    """What a GoKarla URL means: the origin to store, the API roots to try in order (Connect
    stores the first that answers as GoKarla) and the shop slug.

    ``notes`` says, in words an admin can read, what was changed on the way (for example a
    removed trailing slash).
    """

    url: str
    api_roots: tuple[str, ...]
    shop_slug: str
    slug_source: str
    notes: tuple[str, ...] = ()

    @property
    def endpoints(self) -> tuple[Endpoint, ...]:
        return tuple(Endpoint(api_root=root, shop_slug=self.shop_slug) for root in self.api_roots)


# The API paths an admin may type after the host (GoKarla's docs: /v1; ArminCX's guide: /api/v1).
_API_PATHS = ("/api/v1", "/v1")


def endpoint_candidates(
    url: str,
    *,
    username: str,
    shop_slug: str = "",
    allowed_hosts: Iterable[str],
    sandbox_url: str,
) -> Candidates:
    """Validate a GoKarla URL and derive the API roots to try and the shop slug.

    Accepted, each with or without a trailing slash: ``https://{shop}.gokarla.io`` (slug
    ``{shop}``; roots ``…/api/v1``, then ``https://api.gokarla.io/v1``),
    ``https://api.gokarla.io`` (root ``/v1``; slug from ``shop_slug`` or the username), any of
    them followed by ``/v1`` or ``/api/v1`` (that root is tried first), and the sandbox origin
    while the sandbox is enabled. ``shop_slug``, when given, overrides the slug.

    ``allowed_hosts``: host patterns such as ``*.gokarla.io``; ``sandbox_url``: the sandbox's
    origin, or ``""`` to allow no sandbox (the app passes its settings: ``accounts.connection``).
    Raises ``InvalidGoKarlaURL``, or ``InvalidInput`` for a slug that cannot be one.
    """
    if not isinstance(url, str) or not url.strip():
        raise InvalidGoKarlaURL()
    notes = []
    cleaned = url.strip()
    if cleaned != url:
        notes.append(gettext("Removed the surrounding spaces."))
    if cleaned.endswith("/"):
        cleaned = cleaned.rstrip("/")
        notes.append(gettext("Removed the trailing slash."))

    sandbox_origin = sandbox_url.strip().rstrip("/")
    if sandbox_origin and _without_api_path(cleaned)[0] == sandbox_origin:
        typed = _without_api_path(cleaned)[1]
        slug, source = _slug(shop_slug, username)
        return Candidates(
            url=sandbox_origin,
            api_roots=_roots(sandbox_origin, typed, ("/api/v1",)),
            shop_slug=slug,
            slug_source=source,
            notes=tuple(notes),
        )

    origin, typed = _without_api_path(cleaned)
    host = _validated_host(origin)
    origin = f"https://{host}"
    if not cleaned.startswith(origin):
        notes.append(gettext("Wrote the address in lower case."))
    patterns = _normalised_patterns(allowed_hosts)
    if not any(_host_matches(host, pattern) for pattern in patterns):
        shown = ", ".join(patterns) or "none"
        raise InvalidGoKarlaURL(
            format_lazy(
                gettext_lazy(
                    "Only GoKarla addresses ({shown}) can be connected. Enter your shop's GoKarla "
                    "URL, for example {example}."
                ),
                shown=shown,
                example=_EXAMPLE,
            )
        )

    if host == GOKARLA_API_HOST:
        slug, source = _slug(shop_slug, username)
        roots = _roots(origin, typed, ("/v1",))
    elif _host_matches(host, f"*.{GOKARLA_DOMAIN}"):
        if shop_slug.strip():
            slug, source = _slug(shop_slug, username)
        else:
            slug, source = host.split(".", 1)[0], SlugSource.HOST
        roots = (*_roots(origin, typed, ("/api/v1",)), f"https://{GOKARLA_API_HOST}/v1")
    else:
        slug, source = _slug(shop_slug, username)
        roots = _roots(origin, typed, _API_PATHS)
    return Candidates(
        url=origin, api_roots=roots, shop_slug=slug, slug_source=source, notes=tuple(notes)
    )


def endpoint_for_account(
    *,
    url: str,
    username: str,
    api_root: str,
    shop_slug: str,
    allowed_hosts: Iterable[str],
    sandbox_url: str,
) -> Endpoint:
    """The endpoint of a stored account, checked again against today's rules (``allowed_hosts``
    and ``sandbox_url`` as for ``endpoint_candidates``): an address no longer allowed (the
    sandbox switched off, a host no longer allowed) is refused before any request, and so is
    an API root that its URL would not lead to."""
    rules = {"allowed_hosts": allowed_hosts, "sandbox_url": sandbox_url}
    candidates = endpoint_candidates(url, username=username, shop_slug=shop_slug, **rules)
    # The stored URL is the origin; the admin may have typed an API path after it, which was
    # tried first and may be the root that answered.
    allowed = {
        root
        for path in ("", *_API_PATHS)
        for root in endpoint_candidates(
            f"{candidates.url}{path}", username=username, shop_slug=shop_slug, **rules
        ).api_roots
    }
    if api_root not in allowed:
        raise InvalidGoKarlaURL(
            gettext_lazy(
                "This account's GoKarla API address no longer matches its GoKarla URL. Remove the "
                "account and connect it again."
            )
        )
    return Endpoint(api_root=api_root, shop_slug=candidates.shop_slug)


def _without_api_path(url: str) -> tuple[str, str]:
    """``url`` without a trailing ``/v1`` or ``/api/v1``, and that path ("" if none)."""
    lowered = url.lower()
    for path in _API_PATHS:
        if lowered.endswith(path) and "://" in url[: -len(path)]:
            return url[: -len(path)].rstrip("/"), path
    return url, ""


def _roots(origin: str, typed: str, defaults: tuple[str, ...]) -> tuple[str, ...]:
    """The API roots on ``origin``: the typed path first, then the defaults, each once."""
    paths = dict.fromkeys((typed, *defaults) if typed else defaults)
    return tuple(f"{origin}{path}" for path in paths)


def _validated_host(url: str) -> str:
    """The lower-cased host of an https URL that is nothing but scheme and host."""
    if any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in url):
        raise InvalidGoKarlaURL(
            gettext_lazy("Remove the spaces and line breaks from the GoKarla URL.")
        )
    if "\\" in url:
        raise InvalidGoKarlaURL(gettext_lazy("Remove the backslash from the GoKarla URL."))
    scheme, separator, rest = url.partition("://")
    if not separator or scheme.lower() != "https":
        raise InvalidGoKarlaURL(
            format_lazy(
                gettext_lazy("GoKarla URLs start with https://, for example {example}."),
                example=_EXAMPLE,
            )
        )
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if "@" in authority:
        # Never echo this part back: it may hold a password.
        raise InvalidGoKarlaURL(
            gettext_lazy(
                "Remove the user name and password from the URL; enter them in the Username and "
                "API Token fields instead."
            )
        )
    if authority.startswith("["):
        raise InvalidGoKarlaURL(gettext_lazy("Use your shop's address, not an IP address."))
    if ":" in authority:
        raise InvalidGoKarlaURL(
            format_lazy(
                gettext_lazy(
                    "Remove the port (the ':' and number after the host): GoKarla URLs have "
                    "none, for example {example}."
                ),
                example=_EXAMPLE,
            )
        )
    after_host = rest[len(authority) :]
    if after_host.startswith("?"):
        raise InvalidGoKarlaURL(
            gettext_lazy("Remove the query (the part from '?') from the GoKarla URL.")
        )
    if after_host.startswith("#"):
        raise InvalidGoKarlaURL(
            gettext_lazy("Remove the fragment (the part from '#') from the GoKarla URL.")
        )
    if after_host:
        raise InvalidGoKarlaURL(
            format_lazy(
                gettext_lazy(
                    "Remove the path: enter only the address, for example {example} (…/v1 or "
                    "…/api/v1 at the end are fine too)."
                ),
                example=_EXAMPLE,
            )
        )
    try:
        parts = urlsplit(url)
    except ValueError:
        raise InvalidGoKarlaURL() from None
    host = authority.lower()
    if not host or parts.hostname != host:
        raise InvalidGoKarlaURL()
    if not host.isascii():
        raise InvalidGoKarlaURL(
            gettext_lazy(
                "Use the plain address: GoKarla addresses contain only letters, digits, hyphens "
                "and dots."
            )
        )
    labels = host.split(".")
    if _is_ip_address(host, labels):
        raise InvalidGoKarlaURL(gettext_lazy("Use your shop's address, not an IP address."))
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise InvalidGoKarlaURL(
            format_lazy(
                gettext_lazy(
                    "That is not a valid address: GoKarla addresses contain only letters, "
                    "digits, hyphens and dots, for example {example}."
                ),
                example=_EXAMPLE,
            )
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


def _slug(shop_slug: str, username: str) -> tuple[str, str]:
    """The slug from the Shop slug field, else from the username (GoKarla's default)."""
    typed = shop_slug.strip() if isinstance(shop_slug, str) else ""
    if typed:
        if not _SLUG.fullmatch(typed):
            raise InvalidShopSlug()
        return typed, SlugSource.FIELD
    slug = username.strip() if isinstance(username, str) else ""
    if not slug:
        raise InvalidInput(
            gettext_lazy(
                "Enter the username: for this GoKarla URL it is also your shop's slug, unless you "
                "enter the slug under More options."
            )
        )
    if not _SLUG.fullmatch(slug):
        raise InvalidInput(
            gettext_lazy(
                "This username cannot be your shop's slug (only letters, digits, hyphens, dots and "
                "underscores). Enter the shop's slug under More options."
            )
        )
    return slug, SlugSource.USERNAME
