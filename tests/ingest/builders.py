"""SecurityAlert rows as Log Analytics exports them, for the ingestion tests."""

import itertools
import json
import uuid

_numbers = itertools.count(1)


def host(name="ws-bjenkins-01", domain="niseko.example", id_="2") -> dict:
    return {
        "$id": id_,
        "HostName": name,
        "DnsDomain": domain,
        "OSFamily": "Windows",
        "Type": "host",
    }


def account(name="bjenkins", suffix="niseko.example", id_="3", **extra) -> dict:
    return {"$id": id_, "Name": name, "UPNSuffix": suffix, "Type": "account", **extra}


def ip(address="203.0.113.7", id_="4") -> dict:
    return {"$id": id_, "Address": address, "Type": "ip"}


def row(*, entities=None, extended=None, **columns) -> dict:
    """A realistic row; `columns` override or add columns (None drops one)."""
    n = next(_numbers)
    data = {
        "TenantId": "7c3f1f2e-8d0a-4e8b-9c51-2b0f4d6e9a10",
        "TimeGenerated": f"2026-11-30 08:{n % 60:02d}:00.746663+00:00",
        "DisplayName": f"Suspicious PowerShell command line {n}",
        "AlertName": f"Suspicious PowerShell command line {n}",
        "AlertSeverity": "Medium",
        "Description": "A PowerShell command line with an encoded payload ran.",
        "ProviderName": "ASI Scheduled Alerts",
        "VendorName": "Microsoft",
        "VendorOriginalId": str(uuid.uuid4()),
        "SystemAlertId": str(uuid.uuid4()),
        "AlertType": "SuspiciousPowerShell",
        "ConfidenceScore": 0.8,
        "StartTime": "2026-11-30 07:55:00+00:00",
        "EndTime": "2026-11-30 07:58:00+00:00",
        "RemediationSteps": json.dumps(["Isolate the host.", "Reset the account's password."]),
        "ExtendedProperties": json.dumps(extended if extended is not None else {"Query": "x"}),
        "Entities": json.dumps(entities if entities is not None else [host(), account(), ip()]),
        "ProductName": "Azure Sentinel",
        "Status": "New",
        "CompromisedEntity": "ws-bjenkins-01.niseko.example",
        "Tactics": "Execution, DefenseEvasion",
        "Techniques": json.dumps(["T1059", "T1027"]),
        "AlertLink": "https://portal.example/alerts/1",
        "Type": "SecurityAlert",
    }
    for key, value in columns.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def defender_row(incident_id: str | int, **columns) -> dict:
    """A Microsoft Defender for Endpoint alert that Defender XDR put in incident `incident_id`."""
    return row(
        ProviderName="MDATP",
        ProductName="Microsoft Defender Advanced Threat Protection",
        extended={"IncidentId": str(incident_id), "Category": "Execution"},
        **columns,
    )
