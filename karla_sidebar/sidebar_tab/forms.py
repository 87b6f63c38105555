"""The Sidebar tab's forms: the agents' settings and the reply templates of one language."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy

from accounts.models import Workspace
from karla_sidebar.replies import KINDS, template_errors
from karla_sidebar.replies import MAX_LENGTH as MAX_TEMPLATE_LENGTH


class SidebarSettingsForm(forms.ModelForm):
    """The workspace's settings for its agents' sidebar (Sidebar tab)."""

    sidebar_language = forms.ChoiceField(
        label=gettext_lazy("Default language"),
        required=False,
        help_text=gettext_lazy(
            "The sidebar's language when ArminCX's launch does not name the agent's. "
            "“The agent's browser language” follows each agent's browser (English if it is "
            "neither English nor German)."
        ),
    )

    class Meta:
        model = Workspace
        fields = ["sidebar_language"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sidebar_language"].choices = [
            ("", gettext_lazy("The agent's browser language")),
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
