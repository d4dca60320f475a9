"""`entities.normalize_identifier`: one real-world thing is one `Entity` row."""

import pytest
from django.db import IntegrityError, transaction

from incidents.entities import normalize_identifier
from incidents.models import Entity, EntityKind
from tests.factories import EntityFactory


@pytest.mark.parametrize(
    ("kind", "raw", "normalized"),
    [
        # IP addresses: one spelling per address.
        (EntityKind.IP, " 10.0.0.1 ", "10.0.0.1"),
        (EntityKind.IP, "2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        (EntityKind.IP, "2001:db8::1", "2001:db8::1"),
        (EntityKind.IP, "FE80::1%eth0", "fe80::1%eth0"),
        (EntityKind.IP, "Not-An-IP", "not-an-ip"),
        (EntityKind.IP, "10.0.0.1:443", "10.0.0.1:443"),
        # URLs: scheme and host are case-insensitive, the path is not.
        (
            EntityKind.URL,
            "HTTPS://Login.Contoso.COM/OAuth2/Authorize?Client=Abc",
            "https://login.contoso.com/OAuth2/Authorize?Client=Abc",
        ),
        (EntityKind.URL, "contoso.com/Path", "contoso.com/Path"),
        (EntityKind.URL, "http://[::1", "http://[::1"),
        (EntityKind.URL, "HTTP://[2001:DB8::1]:8080/A", "http://[2001:db8::1]:8080/A"),
        # Names, hashes and hosts are compared without case.
        (EntityKind.ACCOUNT, "CONTOSO\\Alice", "contoso\\alice"),
        (EntityKind.HOST, "DC01.Contoso.com", "dc01.contoso.com"),
        (
            EntityKind.FILEHASH,
            "E3B0C44298FC1C149AFBF4C8996FB924",
            "e3b0c44298fc1c149afbf4c8996fb924",
        ),
        (EntityKind.MAILBOX, "Alice@Contoso.com", "alice@contoso.com"),
        (EntityKind.DNS, "Evil.Example", "evil.example"),
        (EntityKind.CLOUD_APPLICATION, "Office 365", "office 365"),
        (
            EntityKind.REGISTRY_KEY,
            "HKEY_LOCAL_MACHINE\\Software\\Run",
            "hkey_local_machine\\software\\run",
        ),
        (EntityKind.FILE, "C:\\Windows\\System32\\CMD.EXE", "c:\\windows\\system32\\cmd.exe"),
        (EntityKind.SECURITY_GROUP, "Domain Admins", "domain admins"),
        # Everything else keeps its case; surrounding and repeated blanks go.
        (
            EntityKind.PROCESS,
            "  powershell.exe  -EncodedCommand  SQBFAFgA ",
            "powershell.exe -EncodedCommand SQBFAFgA",
        ),
        (EntityKind.MALWARE, "Trojan:Win32/Emotet", "Trojan:Win32/Emotet"),
        (EntityKind.AZURE_RESOURCE, "/subscriptions/ABC/VM1", "/subscriptions/ABC/VM1"),
    ],
)
def test_identifiers_are_normalized_per_kind(kind, raw, normalized):
    assert normalize_identifier(kind, raw) == normalized


def test_a_kind_given_as_a_plain_string_is_normalized_like_the_choice():
    assert normalize_identifier("host", "DC01") == normalize_identifier(EntityKind.HOST, "DC01")
    assert normalize_identifier("ip", "2001:DB8::1") == "2001:db8::1"


def test_normalizing_twice_changes_nothing_more():
    for kind, raw in [
        (EntityKind.URL, "HTTPS://Contoso.com/A"),
        (EntityKind.IP, "2001:0db8::0001"),
        (EntityKind.ACCOUNT, " Alice "),
    ]:
        once = normalize_identifier(kind, raw)
        assert normalize_identifier(kind, once) == once


@pytest.mark.django_db
def test_two_spellings_of_one_host_are_one_entity(workspace):
    first, created = Entity.objects.get_or_create(
        workspace=workspace,
        kind=EntityKind.HOST,
        identifier=normalize_identifier(EntityKind.HOST, "DC01.contoso.com"),
    )
    second, created_again = Entity.objects.get_or_create(
        workspace=workspace,
        kind=EntityKind.HOST,
        identifier=normalize_identifier(EntityKind.HOST, " dc01.CONTOSO.com"),
    )

    assert created is True
    assert created_again is False
    assert second == first


@pytest.mark.django_db
def test_an_identifier_is_unique_per_workspace_and_kind(workspace, other_workspace):
    EntityFactory(workspace=workspace, kind=EntityKind.HOST, identifier="dc01")
    EntityFactory(workspace=workspace, kind=EntityKind.ACCOUNT, identifier="dc01")
    EntityFactory(workspace=other_workspace, kind=EntityKind.HOST, identifier="dc01")

    with pytest.raises(IntegrityError), transaction.atomic():
        EntityFactory(workspace=workspace, kind=EntityKind.HOST, identifier="dc01")
