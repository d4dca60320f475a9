"""`{{ value|reveal_bidi }}`: a name with its bidirectional control characters shown."""

from django import template
from django.utils.safestring import SafeData, mark_safe

from incidents.text import reveal_bidi as reveal

register = template.Library()


# is_safe: the replacement adds no markup, so escaped input stays escaped.
@register.filter(is_safe=True)
def reveal_bidi(value):
    if value is None or value == "":
        return value
    # A message (django.contrib.messages) is safe when its text is: keep what str() gives.
    text = str(value)
    shown = reveal(text)
    return mark_safe(shown) if isinstance(text, SafeData) else shown
