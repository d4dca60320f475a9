"""A SecurityAlert row's `Entities` → entity records with Sentinel's entity identity.

Sentinel writes each entity object once with a `$id` and points at it elsewhere with
`{"$ref": id}` (a process's `ImageFile`, a file's `FileHashes`, an account's `Host`). Every
object with a `Type` is an entity of the alert, at any depth. Each record carries identity
keys: all its strong keys (Sentinel's strong identifiers), or a single weak key when it has
none. Records of one kind whose keys meet are one entity; a weak key never meets a strong
one, because weak and strong keys are spelt differently.

Pure functions, no database: this runs for every ingested alert, so lookups are plain
string operations and nothing large is copied.
"""

import hashlib
import ipaddress
import json
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit

from incidents.entities import normalize_identifier
from incidents.models import EntityKind as K

MAX_LENGTH = 512
# A capped key keeps this many hex digits of the full key's SHA-1, so long keys stay distinct.
_CAP_HASH = 12

_KINDS = frozenset(kind.value for kind in K if kind != K.OTHER)

# Identity of these kinds uses the merged identity of an entity of another kind (a host,
# file hashes, a registry key, an IoT hub), so they are resolved after all the others.
_DEPENDENT = frozenset({K.ACCOUNT, K.PROCESS, K.FILE, K.REGISTRY_VALUE, K.IOT_DEVICE})

# Most specific first; an entity's identifier is its first key in this order.
_KEY_ORDER = {
    K.ACCOUNT: ("aad", "sid", "upn", "nt", "dnsdomain", "objectguid", "puid"),
    K.HOST: ("fqdn", "nt", "azure", "oms", "mdatp"),
    K.FILE: ("path", "file"),
    K.CLOUD_APPLICATION: ("app", "appname"),
    K.SECURITY_GROUP: ("dn", "sid", "objectguid"),
    K.IOT_DEVICE: ("iothub", "iot"),
    K.MAIL_CLUSTER: ("cluster", "clusterid"),
    K.OAUTH_APPLICATION: ("oauth", "oauthobject"),
}

# Names every machine has: never an account's identity on their own (Sentinel drops them).
_GENERIC_NAMES = frozenset(
    [
        "admin",
        "administrator",
        "administrators",
        "anonymous",
        "anonymous logon",
        "authenticated user",
        "authenticated users",
        "defaultaccount",
        "everyone",
        "guest",
        "local service",
        "local system",
        "localsystem",
        "network",
        "network service",
        "null",
        "root",
        "system",
        "wdagutilityaccount",
    ]
)
# NT domains that name the machine itself, not a domain: their accounts are local.
_LOCAL_DOMAINS = frozenset(
    [
        ".",
        "builtin",
        "font driver host",
        "iis apppool",
        "localhost",
        "nt authority",
        "nt service",
        "nt virtual machine",
        "window manager",
        "workgroup",
    ]
)
# Relative ids of the built-in local accounts: Administrator, Guest, DefaultAccount, WDAG.
_LOCAL_RIDS = ("-500", "-501", "-503", "-504")

_HIVES = {
    "HKLM": "HKEY_LOCAL_MACHINE",
    "HKCU": "HKEY_CURRENT_USER",
    "HKCR": "HKEY_CLASSES_ROOT",
    "HKU": "HKEY_USERS",
    "HKCC": "HKEY_CURRENT_CONFIG",
}
_HASH_BY_LENGTH = {32: "md5", 40: "sha1", 64: "sha256"}
_SCALARS = (str, int, float, bool, type(None))
_DROP = object()


class EntityError(ValueError):
    """`Entities` is not a list of objects; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class EntityRecord:
    kind: str
    # All strong keys, most specific first, or one weak key.
    keys: tuple[str, ...]
    strong: bool
    display_name: str
    properties: dict = field(hash=False)

    @property
    def identifier(self) -> str:
        return self.keys[0]


@lru_cache(maxsize=256)
def kind_for_type(type_name: str) -> str:
    """The `EntityKind` value of a Sentinel entity type name; "other" when unknown."""
    name = "".join(type_name.split()).lower().replace("-", "").replace("_", "")
    return name if name in _KINDS else K.OTHER.value


def parse_entities(raw: object) -> list[EntityRecord]:
    """Every entity of one alert once, in order of first appearance.

    `raw` is the decoded `Entities` column: None or a list of objects. `$ref`s are
    resolved (forward ones too; unknown ones ignored), records of one kind sharing a key
    are merged, and nested entities in `properties` become `{"Type", "identifier"}`.
    """
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise EntityError(f"Entities: expected a list of objects, not {_describe(raw)}")
    for number, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise EntityError(f"Entities: item {number} is {_describe(item)}, not an object")
    if not raw:
        return []
    return _Alert(raw).records()


class _Record:
    """One entity object's identity, before records sharing a key are merged."""

    __slots__ = ("display", "keys", "kind", "obj", "position", "strong")

    def __init__(self, obj, position, kind, strong, keys, display):
        self.obj = obj
        self.position = position
        self.kind = kind
        self.strong = strong
        self.keys = keys
        self.display = display


class _Group:
    """Records of one entity; `keys` and `display` are set once its members are final."""

    __slots__ = ("display", "keys", "kind", "members", "strong")

    def __init__(self, kind, strong):
        self.kind = kind
        self.strong = strong
        self.members: list[_Record] = []
        self.keys: tuple[str, ...] = ()
        self.display = ""

    @property
    def identifier(self) -> str:
        return self.keys[0]


class _Alert:
    def __init__(self, raw: list):
        self.index: dict[str, dict] = {}
        _index_ids(raw, self.index)
        self.objects: list[dict] = []
        self._collect(raw, set())
        self.group_of: dict[int, _Group] = {}

    def records(self) -> list[EntityRecord]:
        first, then = [], []
        for position, obj in enumerate(self.objects):
            type_name = obj["Type"]
            kind = kind_for_type(type_name if isinstance(type_name, str) else str(type_name))
            (then if kind in _DEPENDENT else first).append((position, obj, kind))
        # Dependent kinds read the merged keys of the entities they hang off.
        groups = self._merge([self._identify(*item) for item in first])
        groups += self._merge([self._identify(*item) for item in then])
        groups.sort(key=lambda group: group.members[0].position)
        return [
            EntityRecord(
                kind=group.kind,
                keys=group.keys,
                strong=group.strong,
                display_name=group.display,
                properties=self._merged_properties(group),
            )
            for group in groups
        ]

    def _collect(self, node, seen: set[int]) -> None:
        """Every entity object, refs resolved, once each, in order of first appearance."""
        if isinstance(node, list):
            for item in node:
                if isinstance(item, (dict, list)):
                    self._collect(item, seen)
            return
        target = self._resolve(node)
        if target is None or id(target) in seen:
            return
        seen.add(id(target))
        if "Type" in target:
            self.objects.append(target)
        for value in target.values():
            if isinstance(value, (dict, list)):
                self._collect(value, seen)

    def _resolve(self, obj: dict) -> dict | None:
        if "$ref" in obj:
            return self.index.get(str(obj["$ref"]))
        return obj

    def _nested(self, value, kind: str) -> _Group | None:
        """The merged entity of `kind` that a property holds (inline or by `$ref`)."""
        if not isinstance(value, dict):
            return None
        target = self._resolve(value)
        group = None if target is None else self.group_of.get(id(target))
        return group if group is not None and group.kind == kind else None

    def _merge(self, records: list[_Record]) -> list[_Group]:
        owner: dict[tuple, _Group] = {}
        groups: list[_Group] = []
        for record in records:
            hits: list[_Group] = []
            for key in record.keys:
                group = owner.get((record.kind, record.strong, key))
                if group is not None and group not in hits:
                    hits.append(group)
            if not hits:
                group = _Group(record.kind, record.strong)
                groups.append(group)
            else:
                group = min(hits, key=lambda hit: hit.members[0].position)
                for other in hits:
                    if other is not group:
                        group.members.extend(other.members)
                        for member in other.members:
                            for key in member.keys:
                                owner[(member.kind, member.strong, key)] = group
                        other.members = []
            group.members.append(record)
            for key in record.keys:
                owner[(record.kind, record.strong, key)] = group
        live = [group for group in groups if group.members]
        for group in live:
            members = group.members
            if len(members) == 1:  # most entities: nothing to merge
                keys = dict.fromkeys(members[0].keys)
                group.display = members[0].display
            else:
                members.sort(key=lambda member: member.position)
                keys = dict.fromkeys(key for member in members for key in member.keys)
                group.display = next((m.display for m in members if m.display), "")
            order = _KEY_ORDER.get(group.kind)
            if order and len(keys) > 1:
                group.keys = tuple(sorted(keys, key=lambda k: _rank(order, k)))
            else:
                group.keys = tuple(keys)
            for member in members:
                self.group_of[id(member.obj)] = group
        return live

    def _identify(self, position: int, obj: dict, kind: str) -> _Record:
        props = {key.lower(): value for key, value in obj.items()}
        identify = _IDENTITY.get(kind)
        strong, keys, display = identify(self, props) if identify else (False, [], "")
        if not keys:
            strong, keys = False, [_fallback_key(obj, kind)]
            display = display or _fallback_display(props, obj["Type"])
        return _Record(obj, position, kind, bool(strong), tuple(map(_cap, keys)), _clip(display))

    # Identity per kind: (strong, keys, display). Weak answers give exactly one key.

    def _account(self, p):
        name, domain = _text(p, "name"), _text(p, "ntdomain")
        if "\\" in name and not domain:
            domain, _, name = name.rpartition("\\")
        lname, ntdomain = name.lower(), domain.lower()
        suffix = _text(p, "upnsuffix")
        upn = lname if "@" in lname else f"{lname}@{suffix.lower()}" if lname and suffix else ""
        host = self._nested(p.get("host"), K.HOST)
        host_keys = host.keys if host and host.strong else ()
        keys = []
        if aad := _text(p, "aaduserid").lower():
            keys.append(f"aad:{aad}")
        if sid := _text(p, "sid").lower():
            if _is_builtin_sid(sid):
                keys += [f"sid:{sid}@{key}" for key in host_keys]
            else:
                keys.append(f"sid:{sid}")
        if upn:
            keys.append(f"upn:{upn}")
        if lname and ntdomain:
            if ntdomain in _LOCAL_DOMAINS or ntdomain in self._host_names(p.get("host")):
                keys += [f"nt:{ntdomain}\\{lname}@{key}" for key in host_keys]
            else:
                keys.append(f"nt:{ntdomain}\\{lname}")
        if lname and (dnsdomain := _dns(_text(p, "dnsdomain"))):
            keys.append(f"dnsdomain:{dnsdomain}\\{lname}")
        if guid := _text(p, "objectguid").lower():
            keys.append(f"objectguid:{guid}")
        if puid := _text(p, "puid").lower():
            keys.append(f"puid:{puid}")
        display = (
            (name if "@" in name else f"{name}@{suffix}" if name and suffix else "")
            or (f"{domain}\\{name}" if name and domain else "")
            or name
            or _text(p, "displayname")
            or _text(p, "aaduserid")
            or _text(p, "sid")
        )
        if keys:
            return True, keys, display
        if lname:
            if lname in _GENERIC_NAMES and host:
                return False, [f"name:{lname}@{host.identifier}"], display
            return False, [f"name:{lname}"], display
        return False, [f"sid:{sid}"] if sid else [], display

    def _host_names(self, value) -> set[str]:
        """The short names of the host an account hangs off, to tell local accounts."""
        target = self._resolve(value) if isinstance(value, dict) else None
        if target is None:
            return set()
        props = {key.lower(): item for key, item in target.items()}
        names = (_text(props, "hostname"), _text(props, "netbiosname"))
        return {name.lower().split(".", 1)[0] for name in names if name}

    def _host(self, p):
        given = _text(p, "hostname") or _text(p, "netbiosname")
        hostname = _dns(given)
        dnsdomain = _dns(_text(p, "dnsdomain"))
        fqdn = _dns(_text(p, "fqdn"))
        display = _text(p, "fqdn").rstrip(".")
        is_name = hostname and not _looks_like_ip(hostname)
        if is_name and "." in hostname:
            # Some providers put the FQDN in HostName.
            fqdn = fqdn or hostname
            display = display or given.rstrip(".")
            hostname = hostname.split(".", 1)[0]
        elif is_name and dnsdomain:
            fqdn = fqdn or f"{hostname}.{dnsdomain}"
            display = display or f"{given}.{_text(p, 'dnsdomain').rstrip('.')}"
        keys = []
        if fqdn:
            keys.append(f"fqdn:{fqdn}")
        ntdomain = _text(p, "ntdomain").lower()
        if hostname and ntdomain and ntdomain not in _LOCAL_DOMAINS:
            keys.append(f"nt:{ntdomain}\\{hostname}")
        for prop, prefix in (
            ("azureid", "azure"),
            ("omsagentid", "oms"),
            ("mdatpdeviceid", "mdatp"),
        ):
            if value := _text(p, prop).lower():
                keys.append(f"{prefix}:{value}")
        display = display or given
        if keys:
            return True, keys, display
        return False, [f"hostname:{hostname}"] if hostname else [], display

    def _ip(self, p):
        address = _text(p, "address")
        if not address:
            return False, [], ""
        normalized, private = _ip_address(address)
        scope = _text(p, "addressscope").lower()
        key = f"ip:{normalized}%{scope}" if private and scope else f"ip:{normalized}"
        return True, [key], normalized

    def _url(self, p):
        url = _text(p, "url")
        if not url:
            return False, [], ""
        normalized = normalize_identifier(K.URL, url)
        return _is_absolute(normalized), [f"url:{normalized}"], url

    def _filehash(self, p):
        value = _text(p, "value").lower()
        if not value:
            return False, [], ""
        given = _text(p, "algorithm")
        algorithm = given.lower()
        if algorithm in ("", "unknown"):
            algorithm = _HASH_BY_LENGTH.get(len(value), algorithm or "unknown")
            given = algorithm.upper()
        return True, [f"hash:{algorithm}:{value}"], f"{given}: {_text(p, 'value')}"

    def _file(self, p):
        given_name, directory = _text(p, "name"), _text(p, "directory").replace("/", "\\")
        if "\\" in given_name.replace("/", "\\"):
            head, _, given_name = given_name.replace("/", "\\").rpartition("\\")
            directory = directory or head
        name, directory = given_name.lower(), directory.rstrip("\\").lower()
        keys = []
        if name and directory:
            tail = "\\" + name
            keys.append(f"path:{directory if directory.endswith(tail) else directory + tail}")
        if name:
            for item in _as_list(p.get("filehashes")):
                group = self._nested(item, K.FILEHASH)
                if group is not None and group.strong:
                    keys += [f"file:{name}|{key}" for key in group.keys]
        display = given_name or directory
        if keys:
            return True, keys, display
        return False, [f"filename:{name}"] if name else [], display

    def _process(self, p):
        pid = _text(p, "processid")
        # ASCII digits only: "²" is a digit to isdigit() but not to int().
        pid = str(int(pid)) if pid.isascii() and pid.isdigit() else pid.lower()
        created = _utc(_text(p, "creationtimeutc"))
        command = _text(p, "commandline")
        image = self._nested_name(p.get("imagefile")) or _image_of(command)
        display = f"{image} (pid {pid})" if image and pid else image or (pid and f"pid {pid}")
        host = self._nested(p.get("host"), K.HOST)
        if host and host.strong and pid and created:
            return True, [f"process:{key}|{pid}|{created}" for key in host.keys], display
        if pid or command:
            return False, [f"process:{pid}|{created}|{command or image.lower()}"], display
        return False, [], display or command

    def _nested_name(self, value) -> str:
        target = self._resolve(value) if isinstance(value, dict) else None
        if target is None:
            return ""
        return _text({key.lower(): item for key, item in target.items()}, "name")

    def _mailbox(self, p):
        given = _text(p, "mailboxprimaryaddress") or _text(p, "upn")
        display = given or _text(p, "displayname")
        return True, [f"mailbox:{given.lower()}"] if given else [], display

    def _mail_message(self, p):
        message_id = _text(p, "networkmessageid").lower()
        recipient = _text(p, "recipient").lower()
        display = _text(p, "subject") or _text(p, "networkmessageid")
        if message_id and recipient:
            return True, [f"message:{message_id}|{recipient}"], display
        return False, [f"messageid:{message_id}"] if message_id else [], display

    def _mail_cluster(self, p):
        keys = []
        source = _text(p, "source").lower()
        if query := _text(p, "query"):
            keys.append(f"cluster:{source}|{query}")
        if cluster_id := _text(p, "clustersourceidentifier").lower():
            keys.append(f"clusterid:{_text(p, 'clustersourcetype').lower()}|{cluster_id}")
        display = (
            _text(p, "clustergroup") or _text(p, "source") or _text(p, "clustersourceidentifier")
        )
        if display and (count := _text(p, "mailcount")):
            display = f"{display} ({count} {'message' if count == '1' else 'messages'})"
        return True, keys, display

    def _submission_mail(self, p):
        submission = _text(p, "submissionid").lower()
        display = _text(p, "subject") or _text(p, "submissionid")
        if not submission:
            return False, [], display
        parts = (_text(p, name).lower() for name in ("networkmessageid", "recipient", "submitter"))
        return True, [f"submission:{submission}|{'|'.join(parts)}"], display

    def _dns(self, p):
        domain = _dns(_text(p, "domainname"))
        return True, [f"dns:{domain}"] if domain else [], _text(p, "domainname").rstrip(".")

    def _registry_key(self, p):
        hive, key, display = _registry_path(_text(p, "hive"), _text(p, "key"))
        return True, [f"regkey:{hive.lower()}\\{key.lower()}"] if key else [], display

    def _registry_value(self, p):
        name = _text(p, "name")
        key = self._nested(p.get("key"), K.REGISTRY_KEY)
        if key and key.strong:
            prefix = len("regkey:")
            keys = [f"regvalue:{k[prefix:]}|{name.lower()}" for k in key.keys]
            return True, keys, f"{key.display}\\{name}" if name else key.display
        return False, [f"regvaluename:{name.lower()}"] if name else [], name

    def _azure_resource(self, p):
        given = _text(p, "resourceid").rstrip("/")
        display = given.rsplit("/", 1)[-1]
        return True, [f"azure:{given.lower()}"] if given else [], display

    def _malware(self, p):
        name, category = _text(p, "name"), _text(p, "category").lower()
        if name and category:
            return True, [f"malware:{name.lower()}|{category}"], name
        return False, [f"malwarename:{name.lower()}"] if name else [], name

    def _cloud_application(self, p):
        app_id = _text(p, "appid") or _text(p, "saasid")
        name, instance = _text(p, "name"), _text(p, "instancename")
        # MCAS names an app's default instance after the app: that is no instance at all.
        scope = f"|{instance.lower()}" if instance and instance != name else ""
        keys = [f"app:{app_id.lower()}{scope}"] if app_id else []
        if name:
            keys.append(f"appname:{name.lower()}{scope}")
        display = name or app_id
        if instance and instance != display:
            display = f"{display} ({instance})"
        return True, keys, display

    def _security_group(self, p):
        keys = [
            f"{prefix}:{value}"
            for prop, prefix in (
                ("distinguishedname", "dn"),
                ("sid", "sid"),
                ("objectguid", "objectguid"),
            )
            if (value := _text(p, prop).lower())
        ]
        display = _text(p, "distinguishedname") or _text(p, "name") or _text(p, "sid")
        return True, keys, display

    def _iot_device(self, p):
        device = _text(p, "deviceid")
        display = _text(p, "devicename") or device
        if not device:
            return False, [], display
        hub = self._nested(p.get("iothub"), K.AZURE_RESOURCE)
        hub_keys = hub.keys if hub and hub.strong else ()
        keys = [f"iothub:{key.removeprefix('azure:')}|{device}" for key in hub_keys]
        return True, [*keys, f"iot:{device}"], display

    def _cloud_logon_session(self, p):
        session = _text(p, "sessionid")
        return True, [f"session:{session}"] if session else [], session

    def _cloud_logon_request(self, p):
        request = _text(p, "requestid")
        return True, [f"request:{request}"] if request else [], request

    def _oauth_application(self, p):
        app_id, object_id = _text(p, "oauthappid").lower(), _text(p, "oauthobjectid").lower()
        keys = [f"oauth:{app_id}"] if app_id else []
        if object_id:
            keys.append(f"oauthobject:{object_id}")
        return True, keys, _text(p, "name") or _text(p, "oauthappid")

    def _merged_properties(self, group: _Group) -> dict:
        merged = self._properties(group.members[0].obj)
        for member in group.members[1:]:
            for key, value in self._properties(member.obj).items():
                if merged.get(key) in (None, "", [], {}):
                    merged[key] = value
        return merged

    def _properties(self, obj: dict, path: tuple[int, ...] = ()) -> dict:
        """An object's own properties: nested entities become small references."""
        out = {}
        for key, value in obj.items():
            if key == "$id":
                continue
            if isinstance(value, (dict, list)):
                value = self._property(value, path)
                if value is _DROP:
                    continue
            out[key] = value
        return out

    def _property(self, value, path: tuple[int, ...]):
        if isinstance(value, list):
            items = (self._property(item, path) for item in value)
            return [item for item in items if item is not _DROP]
        if not isinstance(value, dict):
            return value
        target = self._resolve(value)
        if target is None:
            return _DROP
        if "Type" in target:
            return {"Type": target["Type"], "identifier": self.group_of[id(target)].identifier}
        if id(target) in path:  # a plain object that refers back to itself
            return _DROP
        return self._properties(target, (*path, id(target)))


_IDENTITY = {
    K.ACCOUNT: _Alert._account,
    K.HOST: _Alert._host,
    K.IP: _Alert._ip,
    K.URL: _Alert._url,
    K.FILEHASH: _Alert._filehash,
    K.FILE: _Alert._file,
    K.PROCESS: _Alert._process,
    K.MAILBOX: _Alert._mailbox,
    K.MAIL_MESSAGE: _Alert._mail_message,
    K.MAIL_CLUSTER: _Alert._mail_cluster,
    K.SUBMISSION_MAIL: _Alert._submission_mail,
    K.DNS: _Alert._dns,
    K.REGISTRY_KEY: _Alert._registry_key,
    K.REGISTRY_VALUE: _Alert._registry_value,
    K.AZURE_RESOURCE: _Alert._azure_resource,
    K.MALWARE: _Alert._malware,
    K.CLOUD_APPLICATION: _Alert._cloud_application,
    K.SECURITY_GROUP: _Alert._security_group,
    K.IOT_DEVICE: _Alert._iot_device,
    K.CLOUD_LOGON_SESSION: _Alert._cloud_logon_session,
    K.CLOUD_LOGON_REQUEST: _Alert._cloud_logon_request,
    K.OAUTH_APPLICATION: _Alert._oauth_application,
}


def _index_ids(node, index: dict[str, dict]) -> None:
    """Every object carrying `$id`, so a `$ref` may come before its target."""
    if isinstance(node, list):
        for item in node:
            if isinstance(item, (dict, list)):
                _index_ids(item, index)
        return
    if "$id" in node and "$ref" not in node:
        index.setdefault(str(node["$id"]), node)
    for value in node.values():
        if isinstance(value, (dict, list)):
            _index_ids(value, index)


def _text(props: dict, name: str) -> str:
    """A property as one line of text; "" when absent, null or not a scalar."""
    value = props.get(name)
    if value is None or isinstance(value, (dict, list)):
        return ""
    return " ".join(str(value).split())


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _dns(name: str) -> str:
    return name.lower().rstrip(".")


def _looks_like_ip(name: str) -> bool:
    return ":" in name or not name.strip("0123456789.")


@lru_cache(maxsize=4096)
def _ip_address(text: str) -> tuple[str, bool]:
    """The compressed address (IPv4-mapped IPv6 as IPv4) and whether it is not global."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return text.lower(), False
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.compressed, not address.is_global


def _is_absolute(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return bool(parts.scheme and parts.netloc)


def _is_builtin_sid(sid: str) -> bool:
    """Well-known SIDs (SYSTEM, BUILTIN\\…, services) and built-in local accounts name
    an account on every machine, so they identify one only with its host."""
    if not sid.startswith(("s-1-5-21-", "s-1-12-")):
        return True
    return sid.endswith(_LOCAL_RIDS)


def _utc(text: str) -> str:
    """One spelling of a UTC time: "2024-07-04 22:35:00.7466000+00:00" and
    "2024-07-04T22:35:00.7466Z" are both 2024-07-04T22:35:00.7466."""
    value = text.upper().replace(" ", "T")
    for suffix in ("Z", "+00:00", "+0000"):
        if value.endswith(suffix):
            value = value[: -len(suffix)]
            break
    head, dot, fraction = value.rpartition(".")
    if dot and fraction.isdigit():
        value = f"{head}.{fraction.rstrip('0')}".rstrip(".")
    return value


def _image_of(command: str) -> str:
    """The executable's file name from a command line, quoted or not."""
    quoted = command.startswith('"')
    first = command[1:].split('"', 1)[0] if quoted else command.split(" ", 1)[0]
    return first.replace("/", "\\").rsplit("\\", 1)[-1]


def _registry_path(hive: str, key: str) -> tuple[str, str, str]:
    """(canonical hive, key without hive or outer separators, display path)."""
    key = key.replace("/", "\\").strip("\\")
    hive = _HIVES.get(hive.upper(), hive.upper())
    head, _, rest = key.partition("\\")
    head = _HIVES.get(head.upper(), head.upper())
    # Some providers write the whole path, hive included, in Key.
    if head.startswith("HKEY_") and hive in ("", head):
        hive, key = head, rest
    return hive, key, f"{hive}\\{key}" if hive else key


def _rank(order: tuple[str, ...], key: str) -> int:
    prefix = key.split(":", 1)[0]
    return order.index(prefix) if prefix in order else len(order)


def _fallback_key(obj: dict, kind: str) -> str:
    """`props:<type>|<sha1>` of the scalar properties: identical records collapse."""
    type_name = " ".join(str(obj["Type"]).split()).lower() if kind == K.OTHER else kind
    scalars = {
        key: value
        for key, value in obj.items()
        if key != "$id"
        and (
            isinstance(value, _SCALARS)
            or (isinstance(value, list) and all(isinstance(item, _SCALARS) for item in value))
        )
    }
    canonical = json.dumps(scalars, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"props:{type_name}|{hashlib.sha1(canonical.encode()).hexdigest()}"


def _fallback_display(props: dict, type_name) -> str:
    for name in ("displayname", "name", "friendlyname"):
        if value := _text(props, name):
            return value
    return " ".join(str(type_name).split())


def _cap(key: str) -> str:
    if len(key) <= MAX_LENGTH:
        return key
    digest = hashlib.sha1(key.encode()).hexdigest()[:_CAP_HASH]
    return f"{key[: MAX_LENGTH - _CAP_HASH - 1]}#{digest}"


def _clip(text: str) -> str:
    return text if len(text) <= MAX_LENGTH else text[: MAX_LENGTH - 1] + "…"


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"
