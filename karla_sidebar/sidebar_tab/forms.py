"""The Sidebar tab's forms: the agents' settings and the reply templates of one language."""

from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.utils.translation import gettext, gettext_lazy

from accounts.models import CONVERSATION_PLACEHOLDER, SIDEBAR_SECTIONS, Workspace
from karla_sidebar.replies import KINDS, template_errors
from karla_sidebar.replies import MAX_LENGTH as MAX_TEMPLATE_LENGTH


class SidebarSettingsForm(forms.ModelForm):
    """The workspace's settings for its agents' sidebar (Sidebar tab): its language, what
    its cards show, and where the history links a conversation to in ArminCX."""

    sidebar_language = forms.ChoiceField(
        label=gettext_lazy("Default language"),
        required=False,
        help_text=gettext_lazy(
            "The sidebar's language when ArminCX's launch does not name the agent's. "
            "“The agent's browser language” follows each agent's browser (English if it is "
            "neither English nor German)."
        ),
    )

    sections = forms.MultipleChoiceField(
        label=gettext_lazy("What the cards show agents"),
        required=False,
        choices=SIDEBAR_SECTIONS.items(),
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy(
            "Status, tracking, totals and replies always show. A reply still greets the "
            "customer by name."
        ),
    )
    conversation_url_pattern = forms.CharField(
        label=gettext_lazy("ArminCX conversation link"),
        required=False,
        max_length=300,
        widget=forms.TextInput(
            attrs={
                "placeholder": "https://app.armincx.com/conversations/{conversation}",
                "inputmode": "url",
                "spellcheck": "false",
                "autocomplete": "off",
            }
        ),
        help_text=gettext_lazy(
            "Where a conversation opens in ArminCX, with {conversation} for its ID. The "
            "history links each lookup's conversation there. Empty: no links."
        ),
    )

    class Meta:
        model = Workspace
        fields = ["sidebar_language", "conversation_url_pattern"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sidebar_language"].choices = [
            ("", gettext_lazy("The agent's browser language")),
            *settings.LANGUAGES,
        ]
        shown = self.instance.sidebar_sections
        self.fields["sections"].initial = [name for name, on in shown.items() if on]

    def clean_conversation_url_pattern(self) -> str:
        pattern = self.cleaned_data["conversation_url_pattern"]
        if not pattern:
            return pattern
        try:
            parts = urlsplit(pattern)
            host = parts.hostname
        except ValueError:  # e.g. an unclosed [ in the host
            host = None
        if not host or parts.scheme not in ("https", "http"):
            raise forms.ValidationError(
                gettext("Enter the address of a conversation in ArminCX, starting with https://.")
            )
        rest = pattern.replace(CONVERSATION_PLACEHOLDER, "", 1)
        if CONVERSATION_PLACEHOLDER not in pattern or "{" in rest or "}" in rest:
            raise forms.ValidationError(
                gettext(
                    "Write {conversation} once where the conversation's ID goes, and no other "
                    "braces."
                )
            )
        return pattern

    def save(self, commit: bool = True) -> Workspace:
        shown = set(self.cleaned_data["sections"])
        self.instance.sidebar_hidden_sections = ",".join(
            name for name in SIDEBAR_SECTIONS if name not in shown
        )
        return super().save(commit=commit)


class TestSidebarForm(forms.Form):
    """What the admin's test sidebar opens with: a conversation of this customer, in this
    language (by default, as agents get it)."""

    customer_email = forms.EmailField(
        label=gettext_lazy("Customer e-mail (optional)"),
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=gettext_lazy("The conversation's customer: their recent orders load first."),
    )
    locale = forms.ChoiceField(
        label=gettext_lazy("Language"),
        required=False,
        help_text=gettext_lazy("As ArminCX's launch would name the agent's."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["locale"].choices = [
            ("", gettext_lazy("As agents get it")),
            *settings.LANGUAGES,
        ]


class ReplyTemplatesForm(forms.Form):
    """The workspace's reply templates in one language: a field per kind, initially the
    workspace's own text or the built-in one. Unknown placeholders are refused."""

    def __init__(self, data=None, *, texts: dict[str, str], defaults: dict[str, str]):
        super().__init__(data)
        for kind, label in KINDS.items():
            self.fields[kind] = forms.CharField(
                label=label,
                required=False,
                max_length=MAX_TEMPLATE_LENGTH,
                strip=True,
                initial=texts.get(kind) or defaults[kind],
                widget=forms.Textarea(attrs={"rows": 9, "spellcheck": "true"}),
                help_text=gettext_lazy("Empty: the built-in text."),
            )

    def clean(self):
        cleaned = super().clean()
        for kind in KINDS:
            for error in template_errors(cleaned.get(kind) or ""):
                self.add_error(kind, error)
        return cleaned
