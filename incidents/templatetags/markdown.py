"""`{{ comment|markdown }}`: a comment's Markdown as safe HTML (see `incidents.markdown`)."""

from django import template

from incidents import markdown as comments

register = template.Library()


@register.filter
def markdown(value):
    if value is None or value == "":
        return value
    return comments.render(value)
