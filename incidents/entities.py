"""Entity identity: one real-world thing is one `Entity` row per workspace and kind."""

import ipaddress
from urllib.parse import urlsplit, urlunsplit

from incidents.models import EntityKind

# Kinds whose identifiers are case-insensitive in practice (names, hashes, hosts).
CASE_INSENSITIVE = {
    EntityKind.ACCOUNT,
    EntityKind.HOST,
    EntityKind.FILEHASH,
    EntityKind.MAILBOX,
    EntityKind.DNS,
    EntityKind.CLOUD_APPLICATION,
    EntityKind.REGISTRY_KEY,
    EntityKind.FILE,
    EntityKind.SECURITY_GROUP,
}


def normalize_identifier(kind: str, raw: str) -> str:
    """The canonical spelling of an entity's identifier, so duplicates collapse.

    IP addresses are written in their compressed form; URLs keep their path's case but
    lower-case the scheme and host; names, hashes and hosts are lower-cased.
    """
    value = " ".join(str(raw).split())
    if kind == EntityKind.IP:
        try:
            return ipaddress.ip_address(value).compressed
        except ValueError:
            return value.lower()
    if kind == EntityKind.URL:
        try:
            parts = urlsplit(value)
        except ValueError:  # e.g. "http://[::1": ingestion must not fail on a malformed URL
            return value
        if parts.scheme and parts.netloc:
            return urlunsplit(
                parts._replace(scheme=parts.scheme.lower(), netloc=parts.netloc.lower())
            )
        return value
    if kind in CASE_INSENSITIVE:
        return value.lower()
    return value
