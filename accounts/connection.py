"""GoKarla as this deployment may reach it.

The client (``karla_sidebar.gokarla``) knows nothing of Django's settings: here the app's rules
and limits are passed in, read on every call so that a changed setting applies at once:
``GOKARLA_ALLOWED_HOSTS``, the sandbox's origin while ``SANDBOX_ENABLED`` is on,
``GOKARLA_DEADLINE_SECONDS`` and ``GOKARLA_CONNECT_TIMEOUT_SECONDS``. Everything in the app that
validates a GoKarla URL or builds a client goes through these functions.
"""

from django.conf import settings

from karla_sidebar import gokarla
from karla_sidebar.gokarla import Candidates, Endpoint, GoKarlaClient, Shop


def _addresses() -> dict:
    return {
        "allowed_hosts": settings.GOKARLA_ALLOWED_HOSTS,
        "sandbox_url": settings.SANDBOX_URL if settings.SANDBOX_ENABLED else "",
    }


def _limits() -> dict:
    return {
        "deadline": settings.GOKARLA_DEADLINE_SECONDS,
        "connect_timeout": settings.GOKARLA_CONNECT_TIMEOUT_SECONDS,
    }


def endpoint_candidates(url: str, *, username: str, shop_slug: str = "") -> Candidates:
    """What a GoKarla URL an admin typed means, under this deployment's allowed addresses."""
    return gokarla.endpoint_candidates(url, username=username, shop_slug=shop_slug, **_addresses())


def endpoint_for_account(*, url: str, username: str, api_root: str, shop_slug: str) -> Endpoint:
    """A stored account's endpoint, checked again against today's allowed addresses."""
    return gokarla.endpoint_for_account(
        url=url, username=username, api_root=api_root, shop_slug=shop_slug, **_addresses()
    )


def gokarla_client(
    endpoint: Endpoint, *, username: str, token: str, language: str = ""
) -> GoKarlaClient:
    """A client with this deployment's time limits."""
    return GoKarlaClient(endpoint, username=username, token=token, language=language, **_limits())


def first_answering(
    endpoints: tuple[Endpoint, ...], *, username: str, token: str, language: str = ""
) -> tuple[Endpoint, Shop]:
    """The first of ``endpoints`` that answers as GoKarla, and its shop, within the limits."""
    return gokarla.first_answering(
        endpoints, username=username, token=token, language=language, **_limits()
    )
