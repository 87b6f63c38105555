"""The sidebar in German and English: which language, how dates and money read, the replies
and their templates, the Sidebar tab's settings, and the catalog kept in step with the code."""

from __future__ import annotations

import importlib.util
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone, translation

from accounts.models import ReplyTemplate
from karla_sidebar import formatting
from karla_sidebar.armincx import launch_token_mint
from karla_sidebar.gokarla import Eta, OrderStatus, ShipmentStatus
from karla_sidebar.languages import browser_language, sidebar_language, supported_language
from karla_sidebar.replies import (
    DEFAULTS,
    KINDS,
    PLACEHOLDERS,
    demo_cases,
    reply_kind,
    reply_render,
    reply_text,
    template_errors,
)
from karla_sidebar.sidebar_session import SIDEBAR_TOKEN_HEADER

SIDEBAR_TAB = "/settings/integrations/gokarla/sidebar/"
HEADER = f"HTTP_{SIDEBAR_TOKEN_HEADER.upper().replace('-', '_')}"


def launch(client, workspace, accept_language="", **claims):
    token = launch_token_mint(
        workspace=workspace, agent_id="a-1", agent_name="Ada Agent", tz="Europe/Berlin", **claims
    )
    extra = {"HTTP_ACCEPT_LANGUAGE": accept_language} if accept_language else {}
    return client.get("/sidebar/", {"token": token}, **extra)


def session_header(response) -> dict:
    token = re.search(r'name="karla-sidebar-token" content="([^"]+)"', response.content.decode())
    return {HEADER: token.group(1), "HTTP_HX_REQUEST": "true"}


# Which language


@pytest.mark.parametrize(
    ("tag", "language"),
    [("de", "de"), ("de-DE", "de"), ("de_AT", "de"), ("EN-gb", "en"), ("fr", ""), ("", "")],
)
def test_a_tag_names_a_supported_language_or_none(tag, language):
    assert supported_language(tag) == language


@pytest.mark.parametrize(
    ("claim", "workspace_default", "browser", "chosen"),
    [
        ("de-DE", "en", "en", "de"),  # the launch claim first
        ("", "de", "en", "de"),  # then the workspace's default
        ("fr", "", "de", "de"),  # an unknown claim is passed over; then the browser's
        ("", "", "", "en"),  # else English
        ("it", "", "fr", "en"),
    ],
)
def test_the_sidebar_language_claim_then_workspace_then_browser_then_english(
    claim, workspace_default, browser, chosen
):
    assert sidebar_language(claim=claim, workspace_default=workspace_default, browser=browser) == (
        chosen
    )


def test_the_browser_language_is_the_first_supported_one_it_asks_for(rf):
    request = rf.get("/", HTTP_ACCEPT_LANGUAGE="fr-FR, de-AT;q=0.8, en;q=0.5")
    assert browser_language(request) == "de"
    assert browser_language(rf.get("/", HTTP_ACCEPT_LANGUAGE="fr, it")) == ""


def test_the_launch_claim_decides_and_the_session_keeps_it(client, workspace, shop_account):
    response = launch(client, workspace, accept_language="en", locale="de-DE")
    body = response.content.decode()
    assert '<html lang="de">' in body and "Bestellung abrufen" in body
    assert response["Content-Language"] == "de"
    # Every later request of the session speaks German, whatever the browser sends.
    card = client.post(
        "/sidebar/order/",
        {"reference": "1001"},
        HTTP_ACCEPT_LANGUAGE="en",
        **session_header(response),
    )
    text = " ".join(re.sub(r"<[^>]+>", " ", card.content.decode()).split())
    assert "Bestellung: Versandt" in text and "151,95 €" in text and "Unterwegs" in text
    assert card["Content-Language"] == "de"


def test_the_workspace_default_applies_without_a_claim(client, workspace, shop_account):
    workspace.sidebar_language = "de"
    workspace.save()
    assert '<html lang="de">' in launch(client, workspace, accept_language="en").content.decode()


def test_the_browser_language_applies_when_nothing_else_says(client, workspace, shop_account):
    body = launch(client, workspace, accept_language="de-DE,de;q=0.9").content.decode()
    assert '<html lang="de">' in body
    body = launch(client, workspace, accept_language="fr-FR").content.decode()
    assert '<html lang="en">' in body and "Get Order" in body


def test_gokarla_is_asked_in_the_sidebar_s_language(client, workspace, shop_account, sandbox):
    german = launch(client, workspace, locale="de")
    english = launch(client, workspace, locale="en")
    reference = {"reference": "00340434161094042557"}
    post = client.post
    de = post("/sidebar/order/", {"reference": "1001"}, **session_header(german)).content.decode()
    en = post("/sidebar/order/", {"reference": "1001"}, **session_header(english)).content.decode()
    assert "Paketzentrum" in de and "Paketzentrum" not in en  # GoKarla's own event texts
    assert reference  # (the shipment card shows the same events: tests/test_sidebar.py)


def test_the_expired_session_s_answer_follows_the_browser(client, workspace):
    response = client.post(
        "/sidebar/order/", {"reference": "1001"}, HTTP_ACCEPT_LANGUAGE="de", **{HEADER: "nope"}
    )
    assert response.status_code == 401
    assert "Ihre Sidebar-Sitzung ist abgelaufen" in response.content.decode()


def test_settings_pages_follow_the_language_menu(alice_client):
    response = alice_client.post("/i18n/setlang/", {"language": "de", "next": SIDEBAR_TAB})
    assert response.status_code == 302
    page = alice_client.get(SIDEBAR_TAB).content.decode()
    assert '<html lang="de">' in page and "Antwortvorlagen" in page and "Konten" in page
    english = alice_client.get(SIDEBAR_TAB, HTTP_ACCEPT_LANGUAGE="de")
    assert english.status_code == 200


# How things read (Babel)


@pytest.fixture
def berlin():
    with timezone.override("Europe/Berlin"):
        yield


@pytest.mark.parametrize(
    ("language", "money", "day", "when", "ago"),
    [
        ("de", "151,95\xa0€", "So., 29. Nov.", "So., 29. Nov., 15:05", "vor 3 Tagen"),
        ("en", "€151.95", "Sun 29 Nov", "Sun 29 Nov, 15:05", "3 days ago"),
    ],
)
def test_money_dates_and_relative_times_in_the_locale(berlin, language, money, day, when, ago):
    moment = datetime(2026, 11, 29, 14, 5, tzinfo=UTC)  # 15:05 in Berlin
    with translation.override(language):
        assert formatting.money_label(Decimal("151.95"), "EUR") == money
        assert formatting.day_label(moment) == day
        assert formatting.datetime_label(moment) == when
        assert formatting.relative_label(timezone.now() - timedelta(days=3)) == ago


def test_an_eta_window_and_numbers_in_german(berlin):
    window = Eta(start=date(2026, 12, 3), end=date(2026, 12, 5))
    with translation.override("de"):
        assert formatting.eta_dates(window) == "Do., 3.\u2009–\u2009Sa., 5. Dez."
        assert formatting.number_label(12345) == "12.345"
        assert formatting.percent_label(10) == "10\xa0%"
        assert formatting.status_label(ShipmentStatus.IN_TRANSIT) == "Unterwegs"
        assert formatting.status_label(OrderStatus.FULFILLED) == "Versandt"


def test_an_unknown_currency_is_still_shown_with_the_amount():
    with translation.override("de"):
        assert formatting.money_label(Decimal("5"), "XBT") in ("5,00\xa0XBT", "5,00 XBT")


# Replies and their templates


def test_every_kind_has_a_default_in_each_language_that_validates():
    for language in ("en", "de"):
        with translation.override(language):
            for kind in KINDS:
                text = reply_text(demo_cases()[kind], agent_name="Ada")
                assert text and "{" not in text, (language, kind, text)
                assert not template_errors(translation.gettext(DEFAULTS[kind]))


def test_each_demo_case_gets_its_own_kind():
    assert {kind: reply_kind(record) for kind, record in demo_cases().items()} == {
        kind: kind for kind in KINDS
    }


def test_the_german_reply_names_the_tracking_link_and_pickup_place():
    with translation.override("de"):
        pickup = reply_text(demo_cases()["pickup"], agent_name="Ada")
        order = reply_text(demo_cases()["order"], agent_name="Ada")
    assert "DHL Packstation 152, Brühl 1, 04109 Leipzig" in pickup
    assert "liegt zur Abholung bereit" in pickup
    assert "Sendungsverfolgung: https://www.dhl.de/" in order and order.endswith("Ada")
    assert ".." not in order  # the ETA's own full stop ("Fr., 4. Dez.") ends the sentence


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Hello {nme}", "Unknown placeholder {nme}"),
        ("Hello { customer_name }", "Unknown placeholder { customer_name }"),
        ("Hello {customer_name", "A lone “{”"),
        ("Hello customer_name}", "A lone “}”"),
        ("{order_number.__class__}", "Unknown placeholder {order_number.__class__}"),
        ("x" * 4001, "at most 4000 characters"),
    ],
)
def test_invalid_templates_are_refused_with_a_clear_message(text, message):
    assert any(message in error for error in template_errors(text))


def test_braces_can_be_written_and_every_listed_placeholder_is_accepted():
    text = "{{ literal }} " + " ".join(f"{{{name}}}" for name in PLACEHOLDERS)
    assert template_errors(text) == []
    assert reply_render("{{x}} {order_number}", {"order_number": "1001"}) == "{x} 1001"


def test_the_workspace_s_template_is_used_in_the_sidebar(client, workspace, shop_account):
    ReplyTemplate.objects.create(
        workspace=workspace, language="de", kind="order", text="Moin {customer_name}: {status}."
    )
    response = launch(client, workspace, locale="de")
    body = client.post(
        "/sidebar/order/", {"reference": "1001"}, **session_header(response)
    ).content.decode()
    assert "Moin Jane Doe: Unterwegs." in body


# The Sidebar tab


def test_the_tab_lists_placeholders_and_previews_with_a_demo_order(alice_client):
    page = alice_client.get(f"{SIDEBAR_TAB}?language=de").content.decode()
    assert "{tracking_link}" in page and "{pickup_place}" in page
    assert "vielen Dank für Ihre Nachricht" in page  # the German defaults, to edit
    preview = alice_client.post(
        f"{SIDEBAR_TAB}replies/",
        {"language": "de", "preview": "1", "order": "Hallo {customer_name}, {order_status}"},
        HTTP_HX_REQUEST="true",
    )
    assert preview.status_code == 200
    assert "Hallo Jane Doe, Ihre Bestellung 1001 ist versandt." in preview.content.decode()
    assert not ReplyTemplate.objects.exists()  # a preview saves nothing


def test_an_invalid_placeholder_is_refused_and_nothing_is_saved(alice_client):
    response = alice_client.post(
        f"{SIDEBAR_TAB}replies/", {"language": "en", "order": "Hi {first_name}"}
    )
    assert response.status_code == 422
    assert "Unknown placeholder {first_name}. Use one of those listed." in response.content.decode()
    assert not ReplyTemplate.objects.exists()


def test_saving_keeps_only_what_differs_from_the_default(alice_client, workspace):
    with translation.override("en"):
        default = translation.gettext(DEFAULTS["shipment"])
    response = alice_client.post(
        f"{SIDEBAR_TAB}replies/",
        {"language": "en", "order": "Hi {customer_name}!", "shipment": default, "pickup": ""},
    )
    assert response.status_code == 302
    assert list(ReplyTemplate.objects.values_list("language", "kind", "text")) == [
        ("en", "order", "Hi {customer_name}!")
    ]


def test_the_default_language_is_a_sidebar_tab_setting(alice_client, leo_client, workspace):
    assert alice_client.post(f"{SIDEBAR_TAB}settings/", {"sidebar_language": "de"}).status_code == (
        302
    )
    workspace.refresh_from_db()
    assert workspace.sidebar_language == "de"
    assert leo_client.post(f"{SIDEBAR_TAB}settings/", {"sidebar_language": ""}).status_code == 403
    bad = alice_client.post(f"{SIDEBAR_TAB}settings/", {"sidebar_language": "fr"})
    assert bad.status_code == 422


# The catalog


def _messages_module():
    path = Path(__file__).resolve().parent.parent / "scripts" / "messages.py"
    spec = importlib.util.spec_from_file_location("karla_messages", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_string_of_the_code_is_in_the_german_catalog_and_translated():
    """`make messages` adds new strings to locale/de/LC_MESSAGES/django.po; a string left
    untranslated (or whose placeholders differ) fails here."""
    assert _messages_module().problems() == []


def test_a_saved_template_reaches_the_next_card_at_once(
    client, alice_client, workspace, shop_account
):
    headers = session_header(launch(client, workspace, locale="en"))
    first = client.post("/sidebar/order/", {"reference": "1001"}, **headers).content.decode()
    assert "Hello Jane Doe," in first  # the built-in template, now cached
    alice_client.post(f"{SIDEBAR_TAB}replies/", {"language": "en", "order": "Hi {customer_name}!"})
    body = client.post("/sidebar/order/", {"reference": "1001"}, **headers).content.decode()
    assert "Hi Jane Doe!" in body
