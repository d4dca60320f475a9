"""Comments as Markdown: the one place that turns an analyst's text into HTML.

CommonMark with raw HTML off (a typed `<script>` shows as text), line breaks kept as
typed, no images (they would load from anywhere: a tracking pixel, and the CSP's
img-src 'self' refuses them anyway). Links keep markdown-it's check (no `javascript:`,
`vbscript:`, `file:` or `data:`), may only be web, mail or this site's addresses, and
open in a new tab with rel="nofollow noopener noreferrer".
"""

from urllib.parse import urlsplit

from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

LINK_SCHEMES = frozenset({"", "http", "https", "mailto"})
LINK_REL = "nofollow noopener noreferrer"


class _CommentMarkdown(MarkdownIt):
    def validateLink(self, url: str) -> bool:
        if not super().validateLink(url):
            return False
        try:
            return urlsplit(url.strip()).scheme.lower() in LINK_SCHEMES
        except ValueError:
            return False


def _link_open(self, tokens, idx, options, env):
    tokens[idx].attrSet("rel", LINK_REL)
    tokens[idx].attrSet("target", "_blank")
    return self.renderToken(tokens, idx, options, env)


_markdown = _CommentMarkdown("commonmark", {"html": False, "linkify": False, "breaks": True})
_markdown.disable("image")
_markdown.add_render_rule("link_open", _link_open)


def render(text: str) -> SafeString:
    """`text` (Markdown) as HTML that is safe to put in a page."""
    # Everything the page shows passes markdown-it's escaping: raw HTML is off.
    return mark_safe(_markdown.render(str(text)))
