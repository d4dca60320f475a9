"""Providers' own portals: where an incident imported from a provider opens there.

The seeds: "You can pivot to the incident in the Microsoft Defender Portal using the link
in the Microsoft Sentinel incident."
"""

from urllib.parse import quote

from incidents.models import Incident

DEFENDER_PORTAL = "https://security.microsoft.com/incidents/{id}"
# Provider name → its incident page, "{id}" standing for `Incident.provider_incident_id`.
INCIDENT_PAGES = {
    "Microsoft Defender XDR": DEFENDER_PORTAL,
    "Microsoft 365 Defender": DEFENDER_PORTAL,
}


def incident_page(incident: Incident) -> str:
    """The incident's page in its provider's portal, or "" when it has none."""
    page = INCIDENT_PAGES.get(incident.provider_name)
    if not page or not incident.provider_incident_id:
        return ""
    return page.format(id=quote(incident.provider_incident_id, safe=""))
