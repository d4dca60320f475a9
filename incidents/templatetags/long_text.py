"""`{{ html|collapsible }}`: long text (a comment, a description) folded to a few lines
with a "Show more" button (static/js/long-text.js); without JavaScript it stays whole."""

from django import template
from django.utils.html import format_html, strip_tags

register = template.Library()

# Past this many characters or lines a text is folded (the script unfolds what fits).
LONG_CHARACTERS = 300
LONG_LINES = 5
_LINE_ENDS = ("<br", "</p>", "</li>", "</pre>", "</h", "</blockquote>")


def is_long(html: str) -> bool:
    text = strip_tags(html).strip()
    # Line ends: tags where the HTML breaks lines, newlines where <pre> keeps them.
    lines = max(sum(html.count(end) for end in _LINE_ENDS), text.count("\n"))
    return len(text) > LONG_CHARACTERS or lines > LONG_LINES


@register.filter(is_safe=True)
def collapsible(html):
    """`html` (already escaped or rendered) in the folding markup when it is long."""
    if not html or not is_long(str(html)):
        return html
    return format_html(
        '<div class="long-text" data-long-text><div class="long-text-body">{}</div>'
        '<button type="button" class="button-link long-text-toggle" aria-expanded="false" '
        "hidden>Show more</button></div>",
        html,
    )
