"""Form widgets drawn in Python: the queues draw their filter bar on every request, and
Django's `Select` renders a template per option (a third of a millisecond a select), its
`TextInput` three templates (a fifth of a millisecond each)."""

from html import escape

from django import forms
from django.utils.safestring import SafeString, mark_safe


def _attrs(attrs: dict) -> str:
    """As django/forms/widgets/attrs.html writes them."""
    return "".join(
        f" {name}" if value is True else f' {name}="{escape(str(value))}"'
        for name, value in attrs.items()
        if value is not False
    )


class QuickSelect(forms.Select):
    """`forms.Select` with the same HTML (tested against it), written without templates."""

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        html = [f'<select name="{escape(str(widget["name"]))}"{_attrs(widget["attrs"])}>']
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                html.append(f'\n  <optgroup label="{escape(str(group_name))}">')
            for option in options:
                html.append(
                    f'\n  <option value="{escape(str(option["value"]))}"'
                    f"{_attrs(option['attrs'])}>{escape(str(option['label']))}</option>\n"
                )
            if group_name:
                html.append("\n  </optgroup>")
        html.append("\n</select>")
        return mark_safe("".join(html))


class QuickTextInput(forms.TextInput):
    """`forms.TextInput` with the same HTML (tested against it), written without templates."""

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        shown = "" if widget["value"] is None else f' value="{escape(str(widget["value"]))}"'
        return mark_safe(
            f'<input type="{escape(widget["type"])}" name="{escape(str(widget["name"]))}"'
            f"{shown}{_attrs(widget['attrs'])}>"
        )
