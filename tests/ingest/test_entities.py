"""`ingest.entities.parse_entities`: a SecurityAlert's `Entities` → records with identity."""

import copy

import pytest

from incidents.entities import normalize_identifier
from incidents.ingest.entities import EntityError, EntityRecord, kind_for_type, parse_entities

HOST_KEY = "fqdn:ws-042.niseko.example"
DEVICE_KEY = "mdatp:8f3e0d1c2b3a49586776a5b4c3d2e1f0a9b8c7d6"
SHA1 = "6CBCE4A295C163791B60FC23D285E6D84F28EE4C"
SHA256 = "DE96A6E69944335375DC1AC238336066889D9FFC7D73628EF4FE1B1B160AB32C"
AAD_USER = "6B6C2C1E-3A4F-4E5D-9C8B-7A6F5E4D3C2B"


def mdatp_entities() -> list:
    """A Defender for Endpoint alert: a macro-laden document starts PowerShell."""
    return [
        {
            "$id": "2",
            "DnsDomain": "niseko.example",
            "HostName": "WS-042",
            "OSFamily": "Windows",
            "OSVersion": "10.0",
            "MdatpDeviceId": "8F3E0D1C2B3A49586776A5B4C3D2E1F0A9B8C7D6",
            "FQDN": "WS-042.niseko.example",
            "RiskScore": "High",
            "LoggedOnUsers": [{"AccountName": "bjenkins", "DomainName": "NISEKO"}],
            "Type": "host",
        },
        {
            "$id": "3",
            "Name": "bjenkins",
            "NTDomain": "NISEKO",
            "UPNSuffix": "niseko.example",
            "Host": {"$ref": "2"},
            "Sid": "S-1-5-21-1004336348-1177238915-682003330-1105",
            "AadUserId": AAD_USER,
            "IsDomainJoined": True,
            "Type": "account",
        },
        {
            "$id": "4",
            "ProcessId": "12412",
            "CommandLine": '"powershell.exe" -nop -w hidden -enc SQBFAFgA',
            "ElevationToken": "Default",
            "CreationTimeUtc": "2024-07-04T22:34:56.1234567Z",
            "ImageFile": {
                "$id": "5",
                "Directory": "C:\\Windows\\System32\\WindowsPowerShell\\v1.0",
                "Name": "powershell.exe",
                "FileHashes": [
                    {"$id": "6", "Algorithm": "SHA1", "Value": SHA1, "Type": "filehash"},
                    {"$id": "7", "Algorithm": "SHA256", "Value": SHA256, "Type": "filehash"},
                ],
                "Type": "file",
            },
            "ParentProcess": {
                "$id": "8",
                "ProcessId": "7788",
                "CommandLine": '"C:\\Program Files\\Microsoft Office\\root\\Office16\\'
                'WINWORD.EXE" /n "C:\\Users\\bjenkins\\Downloads\\invoice.docm"',
                "CreationTimeUtc": "2024-07-04 22:34:50+00:00",
                "Host": {"$ref": "2"},
                "Account": {"$ref": "3"},
                "Type": "process",
            },
            "Host": {"$ref": "2"},
            "Account": {"$ref": "3"},
            "Type": "process",
        },
        {"$ref": "5"},
        {"$ref": "6"},
        {"$ref": "7"},
        {"$id": "9", "Address": "203.0.113.7", "Type": "ip"},
        {"$id": "10", "Url": "https://cdn.evil.example/stage2.ps1", "Type": "url"},
    ]


def oatp_entities() -> list:
    """A Defender for Office 365 alert: a phishing mail delivered to one mailbox."""
    message_id = "4A6B1C2D-0E9F-4A8B-9C7D-6E5F4A3B2C1D"
    return [
        {
            "$id": "2",
            "MailboxPrimaryAddress": "BJenkins@niseko.example",
            "Upn": "bjenkins@niseko.example",
            "DisplayName": "Bea Jenkins",
            "RiskLevel": "None",
            "Type": "mailbox",
        },
        {
            "$id": "3",
            "Recipient": "bjenkins@niseko.example",
            "Urls": ["https://login.niseko-example.top/reset"],
            "Threats": ["Phish"],
            "Sender": "it-support@niseko-example.top",
            "SenderIP": "198.51.100.23",
            "ReceivedDate": "2024-07-04T21:02:11",
            "NetworkMessageId": message_id,
            "InternetMessageId": "<PH0PR11MB4823@niseko-example.top>",
            "Subject": "Your password expires today",
            "DeliveryAction": "Delivered",
            "DeliveryLocation": "Inbox",
            "Type": "mail-message",
        },
        {
            "$id": "4",
            "NetworkMessageIds": [message_id],
            "CountByDeliveryStatus": {"Delivered": 1},
            "CountByThreatType": {"Phish": 1},
            "Threats": ["Phish"],
            "Query": f'(NetworkMessageId:"{message_id}") AND '
            '(Sender:"it-support@niseko-example.top")',
            "QueryTime": "2024-07-04T21:05:00",
            "MailCount": 1,
            "IsVolumeAnomaly": False,
            "Source": "SimilarityCluster",
            "ClusterSourceIdentifier": message_id,
            "ClusterSourceType": "Similarity",
            "ClusterGroup": "Similarity cluster",
            "Type": "mailCluster",
        },
        {"$id": "5", "Url": "https://login.niseko-example.top/reset", "Type": "url"},
        {"$id": "6", "Address": "198.51.100.23", "Type": "ip"},
    ]


def mcas_entities() -> list:
    """A Defender for Cloud Apps alert: a sign-in from an unusual country."""
    return [
        {
            "$id": "2",
            "AppId": 11161,
            "Name": "Office 365",
            "InstanceName": "Office 365",
            "Type": "cloud-application",
        },
        {
            "$id": "3",
            "Address": "192.0.2.44",
            "Location": {"CountryCode": "NL", "City": "Amsterdam", "Asn": 64500},
            "Type": "ip",
        },
        {
            "$id": "4",
            "Name": "bjenkins",
            "AadTenantId": "0F1E2D3C-4B5A-4968-8776-A5B4C3D2E1F0",
            "AadUserId": AAD_USER.lower(),
            "DisplayName": "Bea Jenkins",
            "IsDomainJoined": False,
            "Type": "account",
        },
    ]


def by_kind(records: list[EntityRecord], kind: str) -> list[EntityRecord]:
    return [r for r in records if r.kind == kind]


def one(records: list[EntityRecord], kind: str) -> EntityRecord:
    (record,) = by_kind(records, kind)
    return record


def test_an_mdatp_alert_gives_each_entity_once_in_order_of_first_appearance():
    records = parse_entities(mdatp_entities())

    assert [(r.kind, r.display_name) for r in records] == [
        ("host", "WS-042.niseko.example"),
        ("account", "bjenkins@niseko.example"),
        ("process", "powershell.exe (pid 12412)"),
        ("file", "powershell.exe"),
        ("filehash", f"SHA1: {SHA1}"),
        ("filehash", f"SHA256: {SHA256}"),
        ("process", "WINWORD.EXE (pid 7788)"),
        ("ip", "203.0.113.7"),
        ("url", "https://cdn.evil.example/stage2.ps1"),
    ]
    assert all(r.strong for r in records)


def test_a_host_is_known_by_its_fqdn_and_its_defender_device_id():
    host = one(parse_entities(mdatp_entities()), "host")

    assert host.keys == (HOST_KEY, DEVICE_KEY)
    assert host.identifier == HOST_KEY
    assert host.properties["LoggedOnUsers"] == [{"AccountName": "bjenkins", "DomainName": "NISEKO"}]
    assert "$id" not in host.properties


def test_an_account_is_known_by_each_of_its_strong_identifiers():
    account = one(parse_entities(mdatp_entities()), "account")

    assert account.keys == (
        f"aad:{AAD_USER.lower()}",
        "sid:s-1-5-21-1004336348-1177238915-682003330-1105",
        "upn:bjenkins@niseko.example",
        "nt:niseko\\bjenkins",
    )
    assert account.properties["Host"] == {"Type": "host", "identifier": HOST_KEY}


def test_a_process_gets_its_image_file_and_host_through_refs():
    process, parent = by_kind(parse_entities(mdatp_entities()), "process")

    assert process.keys == (
        f"process:{HOST_KEY}|12412|2024-07-04T22:34:56.1234567",
        f"process:{DEVICE_KEY}|12412|2024-07-04T22:34:56.1234567",
    )
    path = "path:c:\\windows\\system32\\windowspowershell\\v1.0\\powershell.exe"
    assert process.properties["ImageFile"] == {"Type": "file", "identifier": path}
    assert process.properties["Host"] == {"Type": "host", "identifier": HOST_KEY}
    assert process.properties["ParentProcess"] == {
        "Type": "process",
        "identifier": parent.identifier,
    }
    # The parent's time was written another way; it is the same instant.
    assert parent.identifier == f"process:{HOST_KEY}|7788|2024-07-04T22:34:50"
    assert parent.properties["Account"]["identifier"] == f"aad:{AAD_USER.lower()}"


def test_a_file_is_known_by_its_path_and_by_its_name_with_each_of_its_hashes():
    records = parse_entities(mdatp_entities())
    file = one(records, "file")

    sha1, sha256 = f"hash:sha1:{SHA1.lower()}", f"hash:sha256:{SHA256.lower()}"
    assert [h.identifier for h in by_kind(records, "filehash")] == [sha1, sha256]
    assert file.keys == (
        "path:c:\\windows\\system32\\windowspowershell\\v1.0\\powershell.exe",
        f"file:powershell.exe|{sha1}",
        f"file:powershell.exe|{sha256}",
    )
    assert file.properties["FileHashes"] == [
        {"Type": "filehash", "identifier": sha1},
        {"Type": "filehash", "identifier": sha256},
    ]


def test_an_oatp_alert_gives_mailbox_message_cluster_url_and_ip():
    records = parse_entities(oatp_entities())

    assert [(r.kind, r.identifier, r.display_name) for r in records] == [
        ("mailbox", "mailbox:bjenkins@niseko.example", "BJenkins@niseko.example"),
        (
            "mailmessage",
            "message:4a6b1c2d-0e9f-4a8b-9c7d-6e5f4a3b2c1d|bjenkins@niseko.example",
            "Your password expires today",
        ),
        (
            "mailcluster",
            'cluster:similaritycluster|(NetworkMessageId:"4A6B1C2D-0E9F-4A8B-9C7D-6E5F4A3B2C1D")'
            ' AND (Sender:"it-support@niseko-example.top")',
            "Similarity cluster (1 message)",
        ),
        (
            "url",
            "url:https://login.niseko-example.top/reset",
            "https://login.niseko-example.top/reset",
        ),
        ("ip", "ip:198.51.100.23", "198.51.100.23"),
    ]
    cluster = one(records, "mailcluster")
    assert cluster.keys[1] == "clusterid:similarity|4a6b1c2d-0e9f-4a8b-9c7d-6e5f4a3b2c1d"
    assert cluster.properties["CountByThreatType"] == {"Phish": 1}


def test_an_mcas_alert_gives_the_app_the_ip_and_an_account_known_by_its_aad_user_id():
    records = parse_entities(mcas_entities())

    assert [(r.kind, r.keys, r.display_name) for r in records] == [
        (
            "cloudapplication",
            ("app:11161", "appname:office 365"),
            "Office 365",
        ),
        ("ip", ("ip:192.0.2.44",), "192.0.2.44"),
        ("account", (f"aad:{AAD_USER.lower()}",), "bjenkins"),
    ]
    # A plain object is a property, not an entity.
    assert records[1].properties["Location"]["City"] == "Amsterdam"


@pytest.mark.parametrize(
    ("entity", "kind", "keys", "display"),
    [
        (
            {"Hive": "HKLM", "Key": "Software\\Microsoft\\Windows\\CurrentVersion\\Run\\"},
            "registrykey",
            ("regkey:hkey_local_machine\\software\\microsoft\\windows\\currentversion\\run",),
            "HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\Run",
        ),
        (
            {"Key": "HKEY_CURRENT_USER\\Software\\Classes\\ms-settings\\Shell\\Open\\command"},
            "registrykey",
            ("regkey:hkey_current_user\\software\\classes\\ms-settings\\shell\\open\\command",),
            "HKEY_CURRENT_USER\\Software\\Classes\\ms-settings\\Shell\\Open\\command",
        ),
        (
            {"Name": "Trojan:Win32/Emotet.RPX!MTB", "Category": "Trojan"},
            "malware",
            ("malware:trojan:win32/emotet.rpx!mtb|trojan",),
            "Trojan:Win32/Emotet.RPX!MTB",
        ),
        (
            {
                "ResourceId": "/subscriptions/7A1B/resourceGroups/Prod/providers/"
                "Microsoft.Compute/virtualMachines/Web-01"
            },
            "azureresource",
            (
                "azure:/subscriptions/7a1b/resourcegroups/prod/providers/"
                "microsoft.compute/virtualmachines/web-01",
            ),
            "Web-01",
        ),
        (
            {"DomainName": "C2.Evil.Example."},
            "dns",
            ("dns:c2.evil.example",),
            "C2.Evil.Example",
        ),
        (
            {
                "DistinguishedName": "CN=Domain Admins,CN=Users,DC=niseko,DC=example",
                "SID": "S-1-5-21-1004336348-1177238915-682003330-512",
            },
            "securitygroup",
            (
                "dn:cn=domain admins,cn=users,dc=niseko,dc=example",
                "sid:s-1-5-21-1004336348-1177238915-682003330-512",
            ),
            "CN=Domain Admins,CN=Users,DC=niseko,DC=example",
        ),
        (
            {"DeviceId": "plc-07", "DeviceName": "Boiler PLC"},
            "iotdevice",
            ("iot:plc-07",),
            "Boiler PLC",
        ),
        (
            {
                "SubmissionId": "E2C3A1B0-0000-4000-8000-000000000001",
                "NetworkMessageId": "4A6B1C2D-0E9F-4A8B-9C7D-6E5F4A3B2C1D",
                "Recipient": "bjenkins@niseko.example",
                "Submitter": "bjenkins@niseko.example",
                "Subject": "Your password expires today",
            },
            "submissionmail",
            (
                "submission:e2c3a1b0-0000-4000-8000-000000000001|"
                "4a6b1c2d-0e9f-4a8b-9c7d-6e5f4a3b2c1d|bjenkins@niseko.example|"
                "bjenkins@niseko.example",
            ),
            "Your password expires today",
        ),
        (
            {"AppId": 11114, "Name": "Salesforce", "InstanceName": "Salesforce EU"},
            "cloudapplication",
            ("app:11114|salesforce eu", "appname:salesforce|salesforce eu"),
            "Salesforce (Salesforce EU)",
        ),
        (
            {"SessionId": "s-8c1d", "UserAgent": "Mozilla/5.0"},
            "cloudlogonsession",
            ("session:s-8c1d",),
            "s-8c1d",
        ),
        (
            {"RequestId": "9f0e-77", "UserAgent": "python-requests/2.31"},
            "cloudlogonrequest",
            ("request:9f0e-77",),
            "9f0e-77",
        ),
        (
            {
                "OAuthAppId": "A1B2C3D4-0000-4000-8000-00000000000A",
                "OAuthObjectId": "B1B2C3D4-0000-4000-8000-00000000000B",
                "Name": "Mail Sync Pro",
            },
            "oauthapplication",
            (
                "oauth:a1b2c3d4-0000-4000-8000-00000000000a",
                "oauthobject:b1b2c3d4-0000-4000-8000-00000000000b",
            ),
            "Mail Sync Pro",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) and value.isalpha() else None,
)
def test_each_sentinel_type_has_its_strong_identity(entity, kind, keys, display):
    type_name = {
        "registrykey": "registry-key",
        "azureresource": "azure-resource",
        "cloudapplication": "cloud-application",
    }.get(kind, kind)

    (record,) = parse_entities([{**entity, "Type": type_name}])

    assert (record.kind, record.keys, record.strong, record.display_name) == (
        kind,
        keys,
        True,
        display,
    )


def test_a_registry_value_is_known_by_its_key_and_name():
    key = {"$id": "2", "Hive": "HKEY_LOCAL_MACHINE", "Key": "SOFTWARE\\Run", "Type": "registry-key"}
    value = {
        "Key": {"$ref": "2"},
        "Name": "Updater",
        "Value": "C:\\x.exe",
        "Type": "registry-value",
    }

    _, record = parse_entities([key, value])

    assert record.keys == ("regvalue:hkey_local_machine\\software\\run|updater",)
    assert record.display_name == "HKEY_LOCAL_MACHINE\\SOFTWARE\\Run\\Updater"


def test_an_iot_device_is_known_by_its_hub_too():
    hub = {"$id": "2", "ResourceId": "/subscriptions/7a1b/iothubs/Plant", "Type": "azure-resource"}
    device = {"DeviceId": "plc-07", "IoTHub": {"$ref": "2"}, "Type": "iotdevice"}

    _, record = parse_entities([hub, device])

    assert record.keys == ("iothub:/subscriptions/7a1b/iothubs/plant|plc-07", "iot:plc-07")


@pytest.mark.parametrize(
    ("type_name", "kind"),
    [
        ("account", "account"),
        ("Host", "host"),
        ("azure-resource", "azureresource"),
        ("cloud-application", "cloudapplication"),
        ("registry-value", "registryvalue"),
        ("security_group", "securitygroup"),
        ("IoTDevice", "iotdevice"),
        ("mail-cluster", "mailcluster"),
        ("mailCluster", "mailcluster"),
        ("mailMessage", "mailmessage"),
        ("SubmissionMail", "submissionmail"),
        ("submission-mail", "submissionmail"),
        ("cloud-logon-session", "cloudlogonsession"),
        ("cloud-logon-request", "cloudlogonrequest"),
        ("oauth-application", "oauthapplication"),
        ("network-connection", "other"),
        ("", "other"),
    ],
)
def test_type_names_are_matched_without_case_hyphens_or_underscores(type_name, kind):
    assert kind_for_type(type_name) == kind


def test_an_unknown_type_is_kept_as_other_with_its_type_name():
    (record,) = parse_entities([{"$id": "2", "Type": "network-connection", "Port": 443}])

    assert record.kind == "other"
    assert not record.strong
    assert record.identifier.startswith("props:network-connection|")
    assert record.properties == {"Type": "network-connection", "Port": 443}
    assert record.display_name == "network-connection"


def test_identical_records_without_identifiers_collapse_and_different_ones_do_not():
    records = parse_entities(
        [
            {"Type": "network-connection", "Port": 443},
            {"Type": "Network-Connection", "Port": 443},
            {"Type": "network-connection", "Port": 8443},
            {"Type": "host", "OSFamily": "Linux"},
        ]
    )

    assert [r.kind for r in records] == ["other", "other", "other", "host"]
    assert len({r.identifier for r in records}) == 4  # the type's spelling is part of it
    assert records[3].identifier.startswith("props:host|")
    again = parse_entities([{"Port": 443, "Type": "network-connection"}])
    assert again[0].identifier == records[0].identifier


def test_records_sharing_a_key_are_one_entity_with_all_keys_and_properties():
    records = parse_entities(
        [
            {"Name": "bjenkins", "UPNSuffix": "niseko.example", "Type": "account"},
            {"AadUserId": AAD_USER, "DisplayName": "Bea Jenkins", "Type": "account"},
            {
                "Name": "BJenkins",
                "UPNSuffix": "Niseko.Example",
                "AadUserId": AAD_USER,
                "IsDomainJoined": True,
                "Type": "account",
            },
        ]
    )

    (account,) = records
    assert account.keys == (f"aad:{AAD_USER.lower()}", "upn:bjenkins@niseko.example")
    assert account.display_name == "bjenkins@niseko.example"
    assert account.properties == {
        "Name": "bjenkins",
        "UPNSuffix": "niseko.example",
        "Type": "account",
        "AadUserId": AAD_USER,
        "DisplayName": "Bea Jenkins",
        "IsDomainJoined": True,
    }


def test_a_bare_name_is_weak_and_does_not_merge_with_a_upn():
    weak, strong = parse_entities(
        [
            {"Name": "bjenkins", "Type": "account"},
            {"Name": "bjenkins", "UPNSuffix": "niseko.example", "Type": "account"},
        ]
    )

    assert (weak.keys, weak.strong) == (("name:bjenkins",), False)
    assert (strong.keys, strong.strong) == (("upn:bjenkins@niseko.example",), True)


def test_a_name_that_is_already_a_upn_is_a_upn():
    (account,) = parse_entities([{"Name": "BJenkins@Niseko.Example", "Type": "account"}])

    assert account.keys == ("upn:bjenkins@niseko.example",)


def test_system_accounts_are_told_apart_by_their_host():
    def system_on(host: str) -> list:
        return [
            {"$id": "2", "HostName": host, "DnsDomain": "niseko.example", "Type": "host"},
            {
                "Name": "SYSTEM",
                "NTDomain": "NT AUTHORITY",
                "Sid": "S-1-5-18",
                "Host": {"$ref": "2"},
                "Type": "account",
            },
        ]

    first = one(parse_entities(system_on("ws-042")), "account")
    second = one(parse_entities(system_on("ws-043")), "account")

    assert first.strong
    assert first.keys == (
        "sid:s-1-5-18@fqdn:ws-042.niseko.example",
        "nt:nt authority\\system@fqdn:ws-042.niseko.example",
    )
    assert not set(first.keys) & set(second.keys)


def test_a_system_account_without_its_host_is_weak():
    (by_name,) = parse_entities([{"Name": "SYSTEM", "Sid": "S-1-5-18", "Type": "account"}])
    (by_sid,) = parse_entities([{"Sid": "S-1-5-18", "Type": "account"}])

    assert (by_name.keys, by_name.strong) == (("name:system",), False)
    assert (by_sid.keys, by_sid.strong) == (("sid:s-1-5-18",), False)


def test_a_generic_name_is_scoped_by_its_host_and_stays_weak():
    records = parse_entities(
        [
            {"$id": "2", "HostName": "web-01", "Type": "host"},
            {"Name": "root", "Host": {"$ref": "2"}, "Type": "account"},
        ]
    )

    assert [(r.keys, r.strong) for r in records] == [
        (("hostname:web-01",), False),
        (("name:root@hostname:web-01",), False),
    ]


def test_a_local_account_is_scoped_by_its_host():
    (_, account) = parse_entities(
        [
            {"$id": "2", "HostName": "WS-042", "DnsDomain": "niseko.example", "Type": "host"},
            {"Name": "helpdesk", "NTDomain": "WS-042", "Host": {"$ref": "2"}, "Type": "account"},
        ]
    )

    assert account.keys == (f"nt:ws-042\\helpdesk@{HOST_KEY}",)


def test_a_process_without_its_host_is_weak_and_stays_apart_from_one_with_it():
    process = {"ProcessId": "4242", "CreationTimeUtc": "2024-07-04T22:00:00Z"}
    records = parse_entities(
        [
            {"$id": "2", "HostName": "ws-042", "DnsDomain": "niseko.example", "Type": "host"},
            {**process, "Host": {"$ref": "2"}, "Type": "process"},
            {**process, "CommandLine": "rundll32.exe  x.dll,Go", "Type": "process"},
        ]
    )

    _, strong, weak = records
    assert strong.keys == (f"process:{HOST_KEY}|4242|2024-07-04T22:00:00",)
    assert (weak.keys, weak.strong) == (
        ("process:4242|2024-07-04T22:00:00|rundll32.exe x.dll,Go",),
        False,
    )
    assert weak.display_name == "rundll32.exe (pid 4242)"


def test_a_process_id_of_digits_other_than_ascii_is_kept_as_text():
    (record,) = parse_entities([{"ProcessId": "²", "CommandLine": "a.exe", "Type": "process"}])
    assert record.display_name == "a.exe (pid ²)"
    (record,) = parse_entities([{"ProcessId": "0042", "CommandLine": "a.exe", "Type": "process"}])
    assert record.display_name == "a.exe (pid 42)"


def test_case_trailing_dots_and_ipv4_mapped_addresses_do_not_split_an_entity():
    records = parse_entities(
        [
            {"HostName": "WS-042", "DnsDomain": "Niseko.Example.", "Type": "host"},
            {"FQDN": "ws-042.niseko.example", "Type": "host"},
            {"Address": "::ffff:198.51.100.23", "Type": "ip"},
            {"Address": "198.51.100.23", "Type": "ip"},
            {"Url": "HTTPS://Login.Niseko-Example.TOP./Reset", "Type": "url"},
            {"Url": "https://login.niseko-example.top/Reset", "Type": "url"},
            {"Algorithm": "MD5", "Value": "44D88612FEA8A8F36DE82E1278ABB02F", "Type": "filehash"},
            # No algorithm: 32 hex digits are an MD5.
            {"Value": "44d88612fea8a8f36de82e1278abb02f", "Type": "filehash"},
        ]
    )

    assert [r.identifier for r in records] == [
        HOST_KEY,
        "ip:198.51.100.23",
        "url:https://login.niseko-example.top/Reset",
        "hash:md5:44d88612fea8a8f36de82e1278abb02f",
    ]


def test_a_private_address_is_scoped_and_a_public_one_is_not():
    records = parse_entities(
        [
            {"Address": "10.1.2.3", "AddressScope": "Plant-LAN", "Type": "ip"},
            {"Address": "10.1.2.3", "AddressScope": "Office-LAN", "Type": "ip"},
            {"Address": "10.1.2.3", "Type": "ip"},
            {"Address": "52.96.10.20", "AddressScope": "Internet", "Type": "ip"},
        ]
    )

    assert [r.identifier for r in records] == [
        "ip:10.1.2.3%plant-lan",
        "ip:10.1.2.3%office-lan",
        "ip:10.1.2.3",
        "ip:52.96.10.20",
    ]


def test_a_relative_url_is_weak():
    (record,) = parse_entities([{"Url": "/owa/auth/logon.aspx", "Type": "url"}])

    assert (record.keys, record.strong) == (("url:/owa/auth/logon.aspx",), False)


def test_a_ref_may_come_before_its_target():
    records = parse_entities(
        [
            {"$ref": "3"},
            {
                "ProcessId": "1",
                "CreationTimeUtc": "2024-07-04T22:00:00Z",
                "Host": {"$ref": "3"},
                "Type": "process",
            },
            {"$id": "3", "HostName": "ws-042", "DnsDomain": "niseko.example", "Type": "host"},
        ]
    )

    assert [(r.kind, r.identifier) for r in records] == [
        ("host", HOST_KEY),
        ("process", f"process:{HOST_KEY}|1|2024-07-04T22:00:00"),
    ]


def test_a_ref_cycle_does_not_loop():
    records = parse_entities(
        [
            {
                "$id": "2",
                "ProcessId": "10",
                "CommandLine": "a.exe",
                "ParentProcess": {
                    "$id": "3",
                    "ProcessId": "20",
                    "CommandLine": "b.exe",
                    "ParentProcess": {"$ref": "2"},
                    "Type": "process",
                },
                "Context": {"$id": "4", "Self": {"$ref": "4"}},
                "Type": "process",
            }
        ]
    )

    child, parent = records
    assert child.properties["ParentProcess"] == {"Type": "process", "identifier": parent.identifier}
    assert parent.properties["ParentProcess"] == {"Type": "process", "identifier": child.identifier}
    assert child.properties["Context"] == {}


def test_a_ref_to_an_unknown_id_is_ignored():
    records = parse_entities(
        [
            {"$ref": "99"},
            {
                "Name": "a.exe",
                "FileHashes": [{"$ref": "98"}],
                "Host": {"$ref": "97"},
                "Type": "file",
            },
        ]
    )

    (file,) = records
    assert file.keys == ("filename:a.exe",)
    assert file.properties == {"Name": "a.exe", "FileHashes": [], "Type": "file"}


def test_property_names_are_matched_without_case():
    (host,) = parse_entities(
        [{"hostName": "WS-042", "dnsDomain": "niseko.example", "Type": "host"}]
    )

    assert host.identifier == HOST_KEY
    assert host.properties["hostName"] == "WS-042"


def test_no_entities_give_no_records():
    assert parse_entities(None) == []
    assert parse_entities([]) == []


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("[]", "Entities: expected a list of objects, not a string"),
        ({"Type": "host"}, "Entities: expected a list of objects, not an object"),
        ([{"Type": "ip"}, {}, "host"], "Entities: item 3 is a string, not an object"),
        ([None], "Entities: item 1 is null, not an object"),
        ([[{"Type": "ip"}]], "Entities: item 1 is a list, not an object"),
        ([7], "Entities: item 1 is a number, not an object"),
    ],
)
def test_input_that_is_not_a_list_of_objects_is_refused(raw, message):
    with pytest.raises(EntityError, match=f"^{message.replace('[', '.')}$"):
        parse_entities(raw)


def test_keys_and_display_names_are_capped_and_long_keys_stay_distinct():
    base = "https://evil.example/" + "a" * 600
    records = parse_entities(
        [{"Url": base + "1", "Type": "url"}, {"Url": base + "2", "Type": "url"}]
    )

    assert len(records) == 2
    assert {len(r.identifier) for r in records} == {512}
    assert records[0].identifier != records[1].identifier
    assert all(len(r.display_name) <= 512 for r in records)
    assert records[0].properties["Url"] == base + "1"


def test_parsing_leaves_its_input_as_it_was():
    raw = mdatp_entities()
    before = copy.deepcopy(raw)

    parse_entities(raw)

    assert raw == before


def test_every_key_is_already_normalized():
    raw = mdatp_entities() + oatp_entities() + mcas_entities()

    for record in parse_entities(raw):
        for key in record.keys:
            assert normalize_identifier(record.kind, key) == key


@pytest.mark.parametrize(
    ("kind", "raw", "normalized"),
    [
        ("ip", "::FFFF:198.51.100.23", "198.51.100.23"),
        ("ip", "::ffff:10.0.0.1", "10.0.0.1"),
        ("host", "WS-042.Niseko.Example.", "ws-042.niseko.example"),
        ("dns", "c2.evil.example.", "c2.evil.example"),
        ("url", "HTTPS://Evil.Example.:8443/A", "https://evil.example:8443/A"),
        ("url", "https://user@Evil.Example./A", "https://user@evil.example/A"),
        ("url", "http://[2001:DB8::1]:80/A", "http://[2001:db8::1]:80/A"),
    ],
)
def test_normalize_identifier_unmaps_ipv4_and_drops_trailing_dots(kind, raw, normalized):
    assert normalize_identifier(kind, raw) == normalized
