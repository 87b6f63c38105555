"""Every form, refused, as a screen reader meets it: each control's ``aria-describedby`` names
elements that exist, and every error shown is either read with the field it concerns (an
invalid control describes itself with it) or announced on its own (``role="alert"``).

axe-core does not check that the ids behind ``aria-describedby`` exist; this test does, for
every form of the settings pages, through the one template that draws their fields
(``templates/form-field.html``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest

ACCOUNTS = "/settings/integrations/gokarla/accounts/"
HTMX = {"HTTP_HX_REQUEST": "true"}
CONTROLS = {"input", "select", "textarea"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""
    in_alert: bool = False


@dataclass
class Page(HTMLParser):
    elements: list[Element] = field(default_factory=list)

    def __post_init__(self):
        super().__init__()
        self.open: list[Element] = []

    VOID = frozenset({"input", "br", "img", "meta", "link", "hr"})

    def handle_starttag(self, tag, attrs):
        in_alert = any(e.attrs.get("role") == "alert" or e.in_alert for e in self.open)
        element = Element(tag, {k: v or "" for k, v in attrs}, in_alert=in_alert)
        self.elements.append(element)
        if tag not in self.VOID:
            self.open.append(element)

    def handle_endtag(self, tag):
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index].tag == tag:
                del self.open[index:]
                break

    def handle_data(self, data):
        for element in self.open:
            element.text += data

    @property
    def ids(self) -> dict[str, Element]:
        return {e.attrs["id"]: e for e in self.elements if "id" in e.attrs}


def read(response) -> Page:
    page = Page()
    page.feed(response.content.decode())
    return page


def assert_errors_reach_the_reader(response, *, errors: int) -> None:
    page = read(response)
    ids = page.ids
    described: dict[str, Element] = {}
    for element in page.elements:
        for target in element.attrs.get("aria-describedby", "").split():
            assert target in ids, f"{element.tag} {element.attrs} names a missing #{target}"
            described[target] = element
    shown = [
        e for e in page.elements if "error" in e.attrs.get("class", "").split() and e.text.strip()
    ]
    assert len(shown) == errors, [e.text for e in shown]
    for error in shown:
        if error.in_alert:
            continue  # announced as it appears
        control = described.get(error.attrs.get("id", ""))
        assert control is not None, f"no control is described by the error {error.text!r}"
        assert control.tag in CONTROLS and control.attrs.get("aria-invalid") == "true", control
        # The error comes first: what to fix before how.
        assert control.attrs["aria-describedby"].split()[0] == error.attrs["id"]
    for control in (e for e in page.elements if e.attrs.get("aria-invalid") == "true"):
        targets = control.attrs.get("aria-describedby", "").split()
        assert any(ids[t].text.strip() for t in targets), f"{control.attrs} says nothing"


def test_add_account_refused_on_every_field(alice_client, workspace):
    data = {"url": "http://acme.gokarla.io", "username": "", "api_token": "tok en"}
    for headers in (HTMX, {}):
        response = alice_client.post(f"{ACCOUNTS}add/", data, **headers)
        assert response.status_code == 422
        assert_errors_reach_the_reader(response, errors=2)  # the URL is checked with a username


def test_add_account_refused_by_gokarla(alice_client, workspace, sandbox_settings):
    data = {"url": sandbox_settings.url, "username": "demo-shop", "api_token": "wrong"}
    response = alice_client.post(f"{ACCOUNTS}add/", data, **HTMX)
    assert_errors_reach_the_reader(response, errors=1)
    assert 'aria-describedby="id_api_token_error id_api_token_helptext"' in (
        response.content.decode()
    )


def test_update_token_refused(alice_client, shop_account):
    response = alice_client.post(
        f"{ACCOUNTS}{shop_account.pk}/token/", {"api_token": "karla-revoked-token"}, **HTMX
    )
    assert response.status_code == 422
    assert_errors_reach_the_reader(response, errors=1)


def test_api_key_without_a_name(alice_client, workspace):
    response = alice_client.post("/settings/integrations/gokarla/api-keys/create/", {"name": ""})
    assert response.status_code == 422
    assert_errors_reach_the_reader(response, errors=1)


def test_login_refused(client, alice):
    response = client.post("/login/", {"username": "alice", "password": "wrong"})
    page = read(response)
    alert = page.ids["login-error"]
    assert alert.attrs["role"] == "alert" and "correct username and password" in alert.text
    for name in ("id_username", "id_password"):
        control = page.ids[name]
        assert control.attrs["aria-invalid"] == "true"
        assert control.attrs["aria-describedby"] == "login-error"


@pytest.mark.parametrize(
    ("url", "data", "errors"),
    [
        ("sidebar/settings/", {"sidebar_language": "xx"}, 1),
        ("sidebar/replies/", {"language": "en", "order": "Hello {nobody}", "pickup": "{x"}, 2),
    ],
)
def test_sidebar_tab_forms_refused(alice_client, workspace, url, data, errors):
    response = alice_client.post(f"/settings/integrations/gokarla/{url}", data)
    assert response.status_code == 422
    assert_errors_reach_the_reader(response, errors=errors)


def test_history_filters_refused(leo_client, workspace):
    params = {"date_from": "soon", "outcome": "exploded"}
    for headers in ({}, HTMX):
        response = leo_client.get("/settings/integrations/gokarla/history/", params, **headers)
        assert response.status_code == 422
        page = read(response)
        # The results announce the errors (role=alert); each field's own message is where its
        # aria-describedby points, present (empty) before any error so HTMX can fill it in.
        for name in ("date_from", "outcome"):
            assert page.ids[f"id_{name}_error"].text.strip()
        if not headers:
            ids = page.ids
            for element in page.elements:
                for target in element.attrs.get("aria-describedby", "").split():
                    assert target in ids, target
