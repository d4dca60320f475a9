"""MITRE ATT&CK names as alerts carry them (Sentinel's tactic spelling, technique ids)
and the attack.mitre.org pages they are linked to."""

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Tactic:
    name: str  # As Sentinel spells it in SecurityAlert.Tactics: "InitialAccess".
    label: str
    url: str | None


# In kill-chain order (Enterprise, then the ICS-only tactics Sentinel also reports).
_TACTICS = [
    ("Reconnaissance", "Reconnaissance", "TA0043"),
    ("ResourceDevelopment", "Resource development", "TA0042"),
    ("InitialAccess", "Initial access", "TA0001"),
    ("Execution", "Execution", "TA0002"),
    ("Persistence", "Persistence", "TA0003"),
    ("PrivilegeEscalation", "Privilege escalation", "TA0004"),
    ("DefenseEvasion", "Defense evasion", "TA0005"),
    ("CredentialAccess", "Credential access", "TA0006"),
    ("Discovery", "Discovery", "TA0007"),
    ("LateralMovement", "Lateral movement", "TA0008"),
    ("Collection", "Collection", "TA0009"),
    ("CommandAndControl", "Command and control", "TA0011"),
    ("Exfiltration", "Exfiltration", "TA0010"),
    ("Impact", "Impact", "TA0040"),
    ("ImpairProcessControl", "Impair process control", "TA0106"),
    ("InhibitResponseFunction", "Inhibit response function", "TA0107"),
]
TACTICS = {
    name: Tactic(name, label, f"https://attack.mitre.org/tactics/{tid}/")
    for name, label, tid in _TACTICS
}
TACTIC_ORDER = {name: i for i, name in enumerate(TACTICS)}

# T1059, or a sub-technique: T1059.001.
TECHNIQUE = re.compile(r"T(\d{4})(?:\.(\d{3}))?")


@dataclass(frozen=True)
class Technique:
    id: str
    url: str | None


def tactic(name: str) -> Tactic:
    """A known tactic with its page, or the alert's own text without a link."""
    folded = name.replace(" ", "").casefold()
    for known in TACTICS.values():
        if known.name.casefold() == folded:
            return known
    return Tactic(name, name, None)


def technique(text: str) -> Technique:
    """A technique id with its page (a sub-technique's page is under its technique's)."""
    text = text.strip()
    found = TECHNIQUE.fullmatch(text.upper())
    if not found:
        return Technique(text, None)
    number, sub = found.groups()
    path = f"T{number}/{sub}" if sub else f"T{number}"
    return Technique(found.group(0), f"https://attack.mitre.org/techniques/{path}/")


def ordered_tactics(names) -> list[Tactic]:
    """Distinct tactics in kill-chain order; unknown names last, as given."""
    found = {}
    for name in names:
        if isinstance(name, str) and name.strip():
            t = tactic(name.strip())
            found.setdefault(t.name, t)
    last = len(TACTIC_ORDER)
    return sorted(found.values(), key=lambda t: (TACTIC_ORDER.get(t.name, last), t.label))


def ordered_techniques(ids) -> list[Technique]:
    found = {}
    for text in ids:
        if isinstance(text, str) and text.strip():
            t = technique(text)
            found.setdefault(t.id, t)
    return sorted(found.values(), key=lambda t: t.id)
