"""The client's address, as the security log and the sign-in lockouts see it."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str | None:
    """REMOTE_ADDR, or behind `TRIAGE_PROXY_COUNT` trusted proxies the address the first of
    them saw (their X-Forwarded-For entry): what a client writes there itself is ignored."""
    address = request.META.get("REMOTE_ADDR")
    proxies = settings.TRIAGE_PROXY_COUNT
    if proxies:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if len(forwarded) >= proxies:
            address = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(address or ""))
    except ValueError:
        return None
