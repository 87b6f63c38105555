"""Which GoKarla URLs an admin may connect, and where the client then sends its requests."""

import ipaddress
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accounts import connection
from accounts.connection import endpoint_for_account
from karla_sidebar.gokarla import (
    Candidates,
    Endpoint,
    InvalidGoKarlaURL,
    InvalidInput,
    InvalidShopSlug,
    SlugSource,
    endpoint_candidates,
)

GOKARLA = ["*.gokarla.io"]
SANDBOX = "http://127.0.0.1:8001"


def endpoint(url, *, username="demo-shop", shop_slug="", allowed_hosts=GOKARLA, sandbox_url=""):
    return endpoint_candidates(
        url,
        username=username,
        shop_slug=shop_slug,
        allowed_hosts=allowed_hosts,
        sandbox_url=sandbox_url,
    )


def rejection(url, **kwargs) -> str:
    with pytest.raises(InvalidGoKarlaURL) as caught:
        endpoint(url, **kwargs)
    return caught.value.message


class TestAcceptedShapes:
    def test_shop_subdomain_tries_its_api_then_gokarla_s_with_the_host_s_slug(self):
        assert endpoint("https://demo-shop.gokarla.io", username="someone") == Candidates(
            url="https://demo-shop.gokarla.io",
            api_roots=("https://demo-shop.gokarla.io/api/v1", "https://api.gokarla.io/v1"),
            shop_slug="demo-shop",
            slug_source=SlugSource.HOST,
            notes=(),
        )

    @pytest.mark.parametrize(
        "url",
        [
            "https://demo-shop.gokarla.io/api/v1",
            "https://demo-shop.gokarla.io/api/v1/",
            "https://demo-shop.gokarla.io/",
        ],
    )
    def test_the_guide_s_forms_mean_the_same(self, url):
        result = endpoint(url)
        assert result.url == "https://demo-shop.gokarla.io"
        assert result.api_roots[0] == "https://demo-shop.gokarla.io/api/v1"
        assert result.shop_slug == "demo-shop"

    @pytest.mark.parametrize(
        "url",
        [
            "https://api.gokarla.io",
            "https://api.gokarla.io/",
            "https://api.gokarla.io/v1",
            "https://api.gokarla.io/v1/",
        ],
    )
    def test_gokarla_s_documented_base_takes_the_slug_from_the_username(self, url):
        result = endpoint(url, username="my-shop")
        assert result.url == "https://api.gokarla.io"
        assert result.api_roots == ("https://api.gokarla.io/v1",)
        assert (result.shop_slug, result.slug_source) == ("my-shop", SlugSource.USERNAME)

    def test_the_shop_slug_field_overrides_username_and_host(self):
        api = endpoint("https://api.gokarla.io/v1", username="sidebar-key", shop_slug="my-shop")
        assert (api.shop_slug, api.slug_source) == ("my-shop", SlugSource.FIELD)
        host = endpoint("https://demo-shop.gokarla.io", shop_slug="other-shop")
        assert (host.shop_slug, host.slug_source) == ("other-shop", SlugSource.FIELD)

    def test_a_typed_api_path_is_tried_first(self):
        result = endpoint("https://demo-shop.gokarla.io/v1")
        assert result.api_roots == (
            "https://demo-shop.gokarla.io/v1",
            "https://demo-shop.gokarla.io/api/v1",
            "https://api.gokarla.io/v1",
        )

    def test_endpoints_pair_each_root_with_the_slug(self):
        assert endpoint("https://demo-shop.gokarla.io").endpoints == (
            Endpoint("https://demo-shop.gokarla.io/api/v1", "demo-shop"),
            Endpoint("https://api.gokarla.io/v1", "demo-shop"),
        )

    def test_other_allowed_host_tries_api_v1_then_v1_with_the_username(self):
        result = endpoint(
            "https://karla.example.com",
            username="my-shop",
            allowed_hosts=["*.gokarla.io", "karla.example.com"],
        )
        assert result.api_roots == (
            "https://karla.example.com/api/v1",
            "https://karla.example.com/v1",
        )
        assert result.shop_slug == "my-shop"

    def test_trailing_slash_is_removed_with_a_note(self):
        result = endpoint("https://demo-shop.gokarla.io/")
        assert result.url == "https://demo-shop.gokarla.io"
        assert "Removed the trailing slash." in result.notes

    def test_surrounding_whitespace_is_removed_with_a_note(self):
        result = endpoint("  https://demo-shop.gokarla.io/ \n")
        assert result.url == "https://demo-shop.gokarla.io"
        assert "Removed the surrounding spaces." in result.notes
        assert "Removed the trailing slash." in result.notes

    def test_upper_case_is_lowered(self):
        result = endpoint("HTTPS://Demo-Shop.GoKarla.IO")
        assert result.url == "https://demo-shop.gokarla.io"
        assert result.shop_slug == "demo-shop"
        assert result.notes == ("Wrote the address in lower case.",)

    def test_defaults_come_from_settings(self, settings):
        settings.GOKARLA_ALLOWED_HOSTS = ["karla.example.com"]
        settings.SANDBOX_ENABLED = False
        assert (
            connection.endpoint_candidates("https://karla.example.com", username="x").shop_slug
            == "x"
        )
        with pytest.raises(InvalidGoKarlaURL):
            connection.endpoint_candidates("https://demo-shop.gokarla.io", username="x")


class TestRejectedURLs:
    def test_plain_http_is_rejected(self):
        assert "start with https://" in rejection("http://demo-shop.gokarla.io")

    def test_missing_scheme_is_rejected(self):
        assert "start with https://" in rejection("demo-shop.gokarla.io")

    def test_empty_is_rejected(self):
        assert "Enter your GoKarla URL" in rejection("   ")

    @pytest.mark.parametrize(
        "url",
        [
            "https://evil.com",
            "https://gokarla.io.evil.com",
            "https://evilgokarla.io",
            "https://gokarla.io",
            "https://shop.gokarla.io.evil.com",
            "https://a.b.gokarla.io",
            "https://shop-gokarla.io",
        ],
    )
    def test_foreign_and_lookalike_hosts_are_rejected(self, url):
        assert "Only GoKarla addresses (*.gokarla.io) can be connected" in rejection(url)

    @pytest.mark.parametrize(
        "url",
        [
            "https://admin:s3cret-pass@demo-shop.gokarla.io",
            "https://s3cret-pass@demo-shop.gokarla.io",
            "https://evil.com@demo-shop.gokarla.io",
            "https://demo-shop.gokarla.io@evil.com",
        ],
    )
    def test_userinfo_is_rejected_without_echoing_it(self, url):
        message = rejection(url)
        assert "user name and password" in message
        assert "s3cret" not in message
        assert "evil" not in message

    @pytest.mark.parametrize(
        "url", ["https://demo-shop.gokarla.io:443", "https://demo-shop.gokarla.io:8443/"]
    )
    def test_port_is_rejected(self, url):
        assert "Remove the port" in rejection(url)

    @pytest.mark.parametrize(
        "url",
        [
            "https://demo-shop.gokarla.io/api",
            "https://demo-shop.gokarla.io/api/v2",
            "https://demo-shop.gokarla.io/shops/demo-shop",
            "https://demo-shop.gokarla.io/..",
            "https://demo-shop.gokarla.io//evil.com",
            "https://demo-shop.gokarla.io/evil/v1",
        ],
    )
    def test_other_paths_are_rejected(self, url):
        assert "Remove the path" in rejection(url)

    def test_query_is_rejected(self):
        assert "Remove the query" in rejection("https://demo-shop.gokarla.io?x=1")

    def test_fragment_is_rejected(self):
        assert "Remove the fragment" in rejection("https://demo-shop.gokarla.io#top")

    @pytest.mark.parametrize(
        "url",
        [
            "https://127.0.0.1",
            "https://2130706433",
            "https://0x7f.1",
            "https://0x7f000001",
            "https://0177.0.0.1",
            "https://127.1",
            "https://127.0.0.1.",
            "https://[::1]",
            "https://[::ffff:127.0.0.1]",
            "https://169.254.169.254",
        ],
    )
    def test_ip_literals_are_rejected_in_every_form(self, url):
        assert rejection(url) == "Use your shop's address, not an IP address."

    def test_ip_literal_is_rejected_even_when_allowed_as_a_pattern(self):
        message = rejection("https://127.0.0.1", allowed_hosts=["127.0.0.1"])
        assert "not an IP address" in message

    @pytest.mark.parametrize(
        "url",
        [
            "https://shöp.gokarla.io",
            "https://shop_1.gokarla.io",
            "https://-shop.gokarla.io",
            "https://shop..gokarla.io",
            "https://shop.gokarla.io.",
        ],
    )
    def test_hosts_with_other_characters_are_rejected(self, url):
        assert "letters, digits, hyphens and dots" in rejection(url)

    @pytest.mark.parametrize(
        "url", ["https://demo shop.gokarla.io", "https://demo-shop.gokarla.io\\@evil.com"]
    )
    def test_spaces_and_backslashes_are_rejected(self, url):
        rejection(url)


class TestUsernameAsSlug:
    def test_api_host_needs_a_username(self):
        with pytest.raises(InvalidInput, match="Enter the username"):
            endpoint("https://api.gokarla.io", username=" ")

    @pytest.mark.parametrize("username", ["../admin", "a/b", "shop?x", ".."])
    def test_api_host_refuses_a_username_that_is_not_a_slug(self, username):
        with pytest.raises(InvalidInput, match="More options"):
            endpoint("https://api.gokarla.io", username=username)

    def test_a_username_that_is_no_slug_is_fine_with_a_shop_slug(self):
        result = endpoint("https://api.gokarla.io", username="Sidebar key!", shop_slug="my-shop")
        assert result.shop_slug == "my-shop"

    @pytest.mark.parametrize("slug", ["../admin", "a/b", "shop?x", "x" * 101])
    def test_a_shop_slug_that_cannot_be_one_is_refused(self, slug):
        with pytest.raises(InvalidShopSlug):
            endpoint("https://api.gokarla.io", shop_slug=slug)

    def test_shop_host_does_not_need_a_slug_shaped_username(self):
        assert endpoint("https://demo-shop.gokarla.io", username="").shop_slug == "demo-shop"


class TestSandbox:
    def test_sandbox_origin_is_accepted_while_enabled(self):
        result = endpoint(SANDBOX, username="demo-shop", sandbox_url=SANDBOX)
        assert result == Candidates(
            url=SANDBOX,
            api_roots=(f"{SANDBOX}/api/v1",),
            shop_slug="demo-shop",
            slug_source=SlugSource.USERNAME,
            notes=(),
        )

    @pytest.mark.parametrize("path", ["/v1", "/v1/", "/api/v1", "/api/v1/"])
    def test_sandbox_with_an_api_path_tries_that_path_first(self, path):
        result = endpoint(f"{SANDBOX}{path}", sandbox_url=SANDBOX)
        assert result.url == SANDBOX
        assert result.api_roots[0] == f"{SANDBOX}{path.rstrip('/')}"

    def test_sandbox_origin_with_trailing_slash_is_accepted_with_a_note(self):
        result = endpoint(f"{SANDBOX}/", sandbox_url=SANDBOX)
        assert result.url == SANDBOX
        assert result.notes == ("Removed the trailing slash.",)

    def test_sandbox_origin_is_rejected_while_disabled(self):
        assert "https://" in rejection(SANDBOX, sandbox_url="")

    def test_only_the_exact_sandbox_origin_is_accepted(self):
        rejection("http://127.0.0.1:8002", sandbox_url=SANDBOX)
        rejection("http://localhost:8001", sandbox_url=SANDBOX)
        rejection(f"{SANDBOX}/shops", sandbox_url=SANDBOX)

    def test_sandbox_follows_settings(self, settings):
        settings.GOKARLA_ALLOWED_HOSTS = ["*.gokarla.io"]
        settings.SANDBOX_URL = SANDBOX
        settings.SANDBOX_ENABLED = True
        assert connection.endpoint_candidates(SANDBOX, username="demo-shop").url == SANDBOX
        settings.SANDBOX_ENABLED = False
        with pytest.raises(InvalidGoKarlaURL):
            connection.endpoint_candidates(SANDBOX, username="demo-shop")


class TestStoredAccounts:
    def test_a_stored_root_its_url_leads_to_is_used(self, settings):
        settings.GOKARLA_ALLOWED_HOSTS = GOKARLA
        result = endpoint_for_account(
            url="https://demo-shop.gokarla.io",
            username="x",
            api_root="https://api.gokarla.io/v1",
            shop_slug="demo-shop",
        )
        assert result == Endpoint("https://api.gokarla.io/v1", "demo-shop")

    @pytest.mark.parametrize(
        ("url", "root"),
        [
            ("https://demo-shop.gokarla.io", "https://demo-shop.gokarla.io/v1"),
            ("https://api.gokarla.io", "https://api.gokarla.io/api/v1"),
            (SANDBOX, f"{SANDBOX}/v1"),
        ],
    )
    def test_a_root_that_answered_for_a_typed_path_stays_usable(self, settings, url, root):
        """Connect stores the origin; the path typed after it (tried first) may be the root
        that answered."""
        settings.GOKARLA_ALLOWED_HOSTS = GOKARLA
        settings.SANDBOX_URL, settings.SANDBOX_ENABLED = SANDBOX, True
        assert endpoint_for_account(
            url=url, username="demo-shop", api_root=root, shop_slug="demo-shop"
        ) == Endpoint(root, "demo-shop")

    def test_a_stored_root_its_url_does_not_lead_to_is_refused(self, settings):
        settings.GOKARLA_ALLOWED_HOSTS = GOKARLA
        with pytest.raises(InvalidGoKarlaURL, match="connect it again"):
            endpoint_for_account(
                url="https://demo-shop.gokarla.io",
                username="x",
                api_root="https://evil.example/api/v1",
                shop_slug="demo-shop",
            )

    def test_a_sandbox_account_stops_working_when_the_sandbox_is_off(self, settings):
        settings.SANDBOX_URL, settings.SANDBOX_ENABLED = SANDBOX, False
        with pytest.raises(InvalidGoKarlaURL):
            endpoint_for_account(
                url=SANDBOX, username="x", api_root=f"{SANDBOX}/api/v1", shop_slug="demo-shop"
            )


URL_PIECES = st.sampled_from(
    [
        "https://",
        "http://",
        "HTTPS://",
        "shop",
        "api",
        ".gokarla.io",
        "gokarla.io",
        ".evil.com",
        "@",
        ":",
        "443",
        "/",
        "?",
        "#",
        "[::1]",
        "127.0.0.1",
        "0x7f",
        ".1",
        "%2e",
        "\\",
        " ",
        "user:pass",
        "127.0.0.1:8001",
    ]
)
URLS = st.one_of(st.text(), st.lists(URL_PIECES, max_size=8).map("".join))


@settings(max_examples=300, deadline=None)
@given(url=URLS)
def test_any_accepted_url_is_https_on_an_allowed_host_or_the_exact_sandbox(url):
    try:
        result = endpoint(url, sandbox_url=SANDBOX)
    except InvalidInput:
        return
    if result.url == SANDBOX:
        assert url.strip().rstrip("/").removesuffix("/v1").removesuffix("/api") == SANDBOX
        assert all(root.startswith(f"{SANDBOX}/") for root in result.api_roots)
        return
    parts = urlsplit(result.url)
    assert parts.scheme == "https"
    assert parts.username is None and parts.password is None and parts.port is None
    assert (parts.path, parts.query, parts.fragment) == ("", "", "")
    host = parts.hostname
    assert result.url == f"https://{host}"
    assert host.endswith(".gokarla.io") and "." not in host.removesuffix(".gokarla.io")
    with pytest.raises(ValueError):
        ipaddress.ip_address(host)
    for root in result.api_roots:
        assert root.startswith((f"{result.url}/", "https://api.gokarla.io/"))
        assert root.endswith("/v1")
