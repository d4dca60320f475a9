"""The rules a new workspace starts with, so a SOC with no configuration is served.

Chosen for multi-stage attacks that several products see: an endpoint alert (host,
account, process), an identity alert (account, IP) and an email alert (mailbox, URL)
about the same user and machine over a day are one attack; two users phished the same
morning are two. So:

1. **Same user, host or mailbox (24 h)** — alerts that share a strong account, host or
   mailbox identifier (a UPN, an object id, a SID, an FQDN, a device id, a mailbox
   address) within a day join one incident, whatever product raised them: Defender's
   "same targeted asset" / "same actor". IPs and URLs are left out on purpose: NAT,
   proxies and shared infrastructure would join unrelated attacks. Values the guard
   finds in too many alerts (a domain controller, `SYSTEM`) never join alerts alone.
   An alert that names more than three entities of one kind (a spray's targeted
   accounts) does not join others through them: it would chain unrelated victims.
2. **Same alert from the same address (24 h)** — the same detection name from the same
   IP addresses within a day: a password spray or brute force that its rule re-raises on
   every run is one incident, not one a run.
3. **Same entities (5 h)** — alerts with exactly the same entities within Sentinel's
   default 5 hours join: a repeating detection about only an IP, a URL or a weak name
   (what rule 1 cannot see) stays one incident instead of a storm.

Anything else gets an incident of its own, saying that no rule matched.
"""

import datetime as dt

from incidents.models import CorrelationRule, EntityKind, GroupingMethod, Workspace

DEFAULT_RULES = [
    {
        "name": "Same user, host or mailbox (24 h)",
        "description": "Alerts from any product that share a strong account, host or "
        "mailbox identifier within a day: the steps of one attack on one user or machine.",
        "method": GroupingMethod.SHARED_ENTITY,
        "entity_kinds": [EntityKind.ACCOUNT, EntityKind.HOST, EntityKind.MAILBOX],
        "window": dt.timedelta(hours=24),
    },
    {
        "name": "Same alert from the same address (24 h)",
        "description": "The same detection from the same IP addresses within a day: a "
        "password spray or a brute force re-raised on every run of its rule.",
        "method": GroupingMethod.SELECTED,
        "entity_kinds": [EntityKind.IP],
        "match_details": ["name"],
        "window": dt.timedelta(hours=24),
    },
    {
        "name": "Same entities (5 h)",
        "description": "Alerts whose entities are all the same within 5 hours (Sentinel's "
        "default window): a detection that keeps firing about the same things.",
        "method": GroupingMethod.ALL_ENTITIES,
        "window": dt.timedelta(hours=5),
    },
]


def install_default_rules(workspace: Workspace) -> list[CorrelationRule]:
    """Give `workspace` the default rules, unless it has rules already."""
    if CorrelationRule.objects.filter(workspace=workspace).exists():
        return []
    return CorrelationRule.objects.bulk_create(
        CorrelationRule(workspace=workspace, order=(i + 1) * 10, **fields)
        for i, fields in enumerate(DEFAULT_RULES)
    )
