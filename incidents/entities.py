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
# Kinds whose identifiers are DNS names: "dc01.contoso.com." is "dc01.contoso.com".
DNS_NAMES = {EntityKind.HOST, EntityKind.DNS}


def normalize_identifier(kind: str, raw: str) -> str:
    """The canonical spelling of an entity's identifier, so duplicates collapse.

    IP addresses are written in their compressed form (an IPv4-mapped IPv6 address as its
    IPv4 address); URLs keep their path's case but lower-case the scheme and host; names,
    hashes and hosts are lower-cased; DNS names lose the root's trailing dot.
    """
    value = " ".join(str(raw).split())
    if kind == EntityKind.IP:
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            return value.lower()
        if address.version == 6 and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return address.compressed
    if kind == EntityKind.URL:
        try:
            parts = urlsplit(value)
        except ValueError:  # e.g. "http://[::1": ingestion must not fail on a malformed URL
            return value
        if parts.scheme and parts.netloc:
            return urlunsplit(
                parts._replace(scheme=parts.scheme.lower(), netloc=_netloc(parts.netloc))
            )
        return value
    if kind in DNS_NAMES:
        return value.lower().rstrip(".")
    if kind in CASE_INSENSITIVE:
        return value.lower()
    return value


def _netloc(netloc: str) -> str:
    """A URL's user, host and port, lower-cased, without the host name's trailing dot."""
    userinfo, at, hostport = netloc.lower().rpartition("@")
    if hostport.startswith("["):  # an IPv6 literal
        return f"{userinfo}{at}{hostport}"
    host, colon, port = hostport.partition(":")
    return f"{userinfo}{at}{host.rstrip('.')}{colon}{port}"
