"""Which language the sidebar speaks, and the locale its dates, numbers and money follow.

The sidebar's language is chosen once, at launch (README, "Languages"): the launch
token's ``locale`` claim, else the workspace's default language (Sidebar tab), else the
browser's (``Accept-Language``), else English. The sidebar session remembers it, so every
later request renders in it and asks GoKarla in it. Settings pages follow LocaleMiddleware
(the language menu's cookie, else the browser's).
"""

from __future__ import annotations

from functools import cache

from babel import Locale
from django.conf import settings
from django.utils import translation

# How each language writes dates and money (Babel's locales). English in its European form,
# day before month ("Sun 29 Nov"), as the shops and customers are European.
FORMAT_LOCALES = {"en": "en_GB", "de": "de_DE"}


def supported_language(tag: str) -> str:
    """The supported language a tag names (``de``, ``de-DE``, ``de_AT`` → ``de``), or ""."""
    primary = (tag or "").strip().replace("_", "-").split("-")[0].lower()
    return primary if primary in dict(settings.LANGUAGES) else ""


def sidebar_language(*, claim: str, workspace_default: str, browser: str) -> str:
    """The first supported of the launch claim, the workspace's default and the browser's
    language; English when none is."""
    for tag in (claim, workspace_default, browser):
        if language := supported_language(tag):
            return language
    return supported_language(settings.LANGUAGE_CODE) or "en"


def browser_language(request) -> str:
    """The language the browser asks for (``Accept-Language``), if we speak it; else ""."""
    header = request.META.get("HTTP_ACCEPT_LANGUAGE", "")
    for tag, _quality in translation.trans_real.parse_accept_lang_header(header):
        if language := supported_language(tag):
            return language
    return ""


def format_locale() -> Locale:
    """The Babel locale for the active language (parsed once: Babel is twice as fast given a
    Locale rather than its name)."""
    return _babel_locale(translation.get_language() or "")


@cache
def _babel_locale(language: str) -> Locale:
    return Locale.parse(FORMAT_LOCALES.get(supported_language(language), "en_GB"))
