"""`{{ incident|provider_page }}`: the incident's page in its provider's portal, or ""."""

from django import template

from incidents import providers

register = template.Library()


@register.filter
def provider_page(incident) -> str:
    return providers.incident_page(incident)
