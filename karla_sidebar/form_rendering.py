"""One way every form field is drawn: ``{{ field.as_field_group }}`` renders
``templates/form-field.html`` for every form of the app (``FORM_RENDERER`` in settings).

A field's help text and error get the ids Django's ``aria-describedby`` names
(``id_<name>_helptext``, ``id_<name>_error``), so a screen reader reads both with the field,
the error first: what to fix before how.
"""

from django.forms.boundfield import BoundField
from django.forms.renderers import TemplatesSetting


class DescribedField(BoundField):
    @property
    def aria_describedby(self) -> str | None:
        if self.field.widget.attrs.get("aria-describedby"):
            return None  # the form named them itself
        if not self.auto_id or self.is_hidden:
            return ""
        ids = [f"{self.auto_id}_error"] if self.errors else []
        if self.help_text:
            ids.append(f"{self.auto_id}_helptext")
        return " ".join(ids)


class FormRenderer(TemplatesSetting):
    field_template_name = "form-field.html"
    bound_field_class = DescribedField
