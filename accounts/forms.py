"""Forms check the shape of what an admin typed; the services talk to GoKarla."""

import re

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy

from accounts.advice import in_token_field, in_token_update
from accounts.connection import endpoint_candidates
from accounts.errors import DuplicateAccount
from accounts.throttle import client_address, login_failed, login_locked, login_succeeded
from karla_sidebar.gokarla import (
    GoKarlaError,
    InvalidGoKarlaURL,
    InvalidInput,
    InvalidShopSlug,
    ShopNotFound,
)
from karla_sidebar.gokarla.client import CREDENTIAL_MESSAGE, credential_is_valid

_USERINFO = re.compile(r"//[^/?#]*@")

TOKEN_WIDGET = forms.PasswordInput(
    attrs={"autocomplete": "off", "spellcheck": "false"}, render_value=False
)


class AccountConnectForm(forms.Form):
    url = forms.CharField(
        label=gettext_lazy("GoKarla URL"),
        max_length=255,
        widget=forms.TextInput(
            attrs={
                "placeholder": "https://your-shop.gokarla.io",
                "autocomplete": "off",
                "inputmode": "url",
                "spellcheck": "false",
            }
        ),
        help_text=gettext_lazy(
            "Your shop's GoKarla address, e.g. https://your-shop.gokarla.io, or GoKarla's API "
            "address https://api.gokarla.io/v1."
        ),
    )
    username = forms.CharField(
        label=gettext_lazy("Username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=gettext_lazy(
            "The name of the API key in GoKarla's portal. By default it is your shop's slug."
        ),
    )
    api_token = forms.CharField(
        label=gettext_lazy("API Token"),
        max_length=500,
        strip=True,
        widget=TOKEN_WIDGET,
        help_text=gettext_lazy(
            "From GoKarla's portal: Settings → API keys. A viewer key is enough."
        ),
    )
    # More options
    shop_slug = forms.CharField(
        label=gettext_lazy("Shop slug (optional)"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=gettext_lazy(
            "Only if the username is not your shop's slug and the URL does not name the shop "
            "(https://your-shop.gokarla.io does)."
        ),
    )
    label = forms.CharField(
        label=gettext_lazy("Label (optional)"),
        max_length=100,
        required=False,
        help_text=gettext_lazy(
            "Shown to agents in the account selector. Defaults to the shop's name."
        ),
    )
    MORE_OPTIONS = ("shop_slug", "label")

    # Which field an error from GoKarla belongs next to.
    ERROR_FIELDS = {
        "credentials_rejected": "api_token",
        "access_denied": "api_token",
        "not_found": "url",
        "not_gokarla_api": "url",
        "unavailable": "url",
        "timeout": "url",
        "rate_limited": None,
        "unexpected_response": "url",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.url_notes: tuple[str, ...] = ()

    @property
    def more_options_open(self) -> bool:
        """Show "More options" unfolded when one of them is filled in or refused."""
        return any(self[name].value() or self[name].errors for name in self.MORE_OPTIONS)

    def clean(self):
        cleaned = super().clean()
        url, username = cleaned.get("url"), cleaned.get("username")
        if url and username:
            try:
                candidates = endpoint_candidates(
                    url, username=username, shop_slug=cleaned.get("shop_slug", "")
                )
            except InvalidInput as error:
                self.add_gokarla_error(error)
            else:
                self.url_notes = candidates.notes
        return cleaned

    def clean_username(self):
        return _credential(self.cleaned_data["username"])

    def clean_api_token(self):
        return _credential(self.cleaned_data["api_token"])

    def clean_url(self):
        url = self.cleaned_data["url"]
        if _USERINFO.search(url):
            # Never show a password typed into the URL again, not even in its own field.
            self.data = self.data.copy()
            self.data[self.add_prefix("url")] = _USERINFO.sub("//", url, count=1)
        return url

    def add_gokarla_error(self, error: GoKarlaError | DuplicateAccount) -> None:
        """Show GoKarla's (or the URL check's) refusal next to the field to fix."""
        if isinstance(error, InvalidGoKarlaURL):
            field = "url"
        elif isinstance(error, InvalidShopSlug | ShopNotFound):
            field = "shop_slug"  # under More options, which then opens
        elif isinstance(error, InvalidInput | DuplicateAccount):
            field = "username"
        else:
            field = self.ERROR_FIELDS.get(error.code)
        self.add_error(field, in_token_field(error) if field == "api_token" else error.message)


def _credential(value: str) -> str:
    if not credential_is_valid(value):
        raise forms.ValidationError(CREDENTIAL_MESSAGE)
    return value


class TokenUpdateForm(forms.Form):
    api_token = forms.CharField(
        label=gettext_lazy("New API Token"),
        max_length=500,
        required=False,
        widget=TOKEN_WIDGET,
        help_text=gettext_lazy(
            "Leave blank to keep the current token. A new token is verified before it is saved."
        ),
    )

    def __init__(self, *args, username: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.username = username

    def clean_api_token(self):
        token = self.cleaned_data["api_token"]
        return _credential(token) if token else token

    def add_gokarla_error(self, error: GoKarlaError) -> None:
        self.add_error("api_token", in_token_update(error, username=self.username))


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        help_text=gettext_lazy(
            "Say what uses it, e.g. “ArminCX order-status workflow”. Shown in the history."
        ),
    )
    requires_customer_email = forms.BooleanField(
        label=gettext_lazy("Answer only for the customer named"),
        required=False,
        help_text=gettext_lazy(
            "Calls must send customer_email, and only that customer's orders are answered. "
            "Use it for workflows that reply to customers directly."
        ),
    )


class ThrottledLogin:
    """Refuses to check passwords after too many recent failures (per user, per client)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "locked": gettext_lazy("Too many failed attempts. Wait 15 minutes, then try again."),
    }

    def clean(self):
        username = self.data.get("username", "")
        address = client_address(self.request) if self.request else ""
        if login_locked(username=username, address=address):
            self.locked = True
            self._point_at_error()
            raise forms.ValidationError(self.error_messages["locked"], code="locked")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            login_failed(username=username, address=address)
            self._point_at_error()
            raise
        login_succeeded(username=username, address=address)
        return cleaned

    # The id of the element that shows the refusal, when the page has one for it.
    error_element_id = ""

    def _point_at_error(self):
        """A refusal concerns both fields: each points at the one message that says why."""
        if not self.error_element_id:
            return
        for name in ("username", "password"):
            self.fields[name].widget.attrs.update(
                {"aria-invalid": "true", "aria-describedby": self.error_element_id}
            )


class ThrottledAuthenticationForm(ThrottledLogin, AuthenticationForm):
    """Django's login form, throttled (templates/registration/login.html)."""

    error_element_id = "login-error"


class ThrottledAdminAuthenticationForm(ThrottledLogin, AdminAuthenticationForm):
    """The Django admin's login form (staff only), throttled the same way and counted with
    the app's login: 30 guesses there are 30 guesses."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "locked": ThrottledLogin.error_messages["locked"],
    }
