"""What STIX 2.1 says each property *is*, and a check per kind of property.

``stix2`` knows these types too, but it coerces: ``StringProperty`` turns ``5`` into ``"5"``,
``IntegerProperty`` turns ``"50"`` or ``50.7`` into ``50``, ``BooleanProperty`` takes ``"t"``,
``ListProperty`` wraps a lone string into a list and drops ``[]`` and ``null``. The specification
defines the JSON types exactly, so :mod:`exchange.stix.strict` checks values against the tables
here before stix2 gets the chance to repair them. Section numbers: STIX 2.1 (Errata 01 edition).

Kinds (one letter, so the tables stay readable):
``s`` string, ``l`` language tag, ``b`` boolean, ``i`` integer, ``f`` float, ``t`` timestamp,
``c`` created/modified (millisecond precision), ``r`` identifier, ``a`` identity identifier,
``S`` list of strings, ``R`` list of identifiers, ``P`` list of marking-definition identifiers,
``K`` kill chain phases, ``E`` external references, ``G`` granular markings, ``H`` hashes,
``X`` extensions, ``D`` dictionary, ``h`` hex, ``B`` binary, ``M`` marking definition body,
``O`` nested structure stix2 parses and type-checks itself.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any, Final

Problem = tuple[str, str]  # (rule code, message)
Check = Callable[[str, Any], Problem | None]  # (property name, value) -> problem

# --- value syntax -------------------------------------------------------------------------------

_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}"
# 2.9: RFC 4122 UUIDs in their 8-4-4-4-12 string form, versions 1-5, the RFC 4122 variant.
UUID_RE: Final = re.compile(_UUID)
# 3.1, 11.2.1: lower-case letters, digits and single hyphens between words, starting with a letter.
TYPE_NAME_RE: Final = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
IDENTIFIER_RE: Final = re.compile(rf"([a-z][a-z0-9]*(?:-[a-z0-9]+)*)--{_UUID}")
# 2.16: YYYY-MM-DDTHH:mm:ss[.s+]Z with two-digit fields, as in the OASIS JSON schema.
TIMESTAMP_RE: Final = re.compile(
    r"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|60)(?:\.[0-9]+)?Z"
)
# 3.1, 7.3.2, 11.1.1, 11.2.1: names of properties the specification does not define.
PROPERTY_NAME_RE: Final = re.compile(r"[a-z][a-z0-9_]{2,249}")
_HASH_KEY_RE: Final = re.compile(r"[a-zA-Z0-9_-]{3,250}")  # 2.7
_EXTENSION_NAME_RE: Final = re.compile(r"[a-z0-9-]{0,246}-ext")  # 11.3.1
_HEX_RE: Final = re.compile(r"(?:[0-9a-f]{2})*")  # 2.8: lower-case only
_BASE64_RE: Final = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")  # RFC 4648
_EXTERNAL_ID_RE: Final = {"cve": re.compile(r"CVE-[0-9]{4}-[0-9]{4,}"), "capec": re.compile(r"CAPEC-[0-9]+")}
# RFC 5646 Language-Tag, well-formedness only: langtag / privateuse / irregular grandfathered.
_LANGTAG = (
    r"(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4,8})"  # language (+ extlang)
    r"(?:-[a-z]{4})?"  # script
    r"(?:-(?:[a-z]{2}|[0-9]{3}))?"  # region
    r"(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*"  # variants
    r"(?:-[0-9a-wyz](?:-[a-z0-9]{2,8})+)*"  # extensions
    r"(?:-x(?:-[a-z0-9]{1,8})+)?"  # private use
)
_IRREGULAR = (
    "en-gb-oed|i-ami|i-bnn|i-default|i-enochian|i-hak|i-klingon|i-lux|i-mingo|i-navajo|i-pwn|i-tao"
    "|i-tay|i-tsu|sgn-be-fr|sgn-be-nl|sgn-ch-de"
)
LANG_RE: Final = re.compile(rf"{_LANGTAG}|x(?:-[a-z0-9]{{1,8}})+|{_IRREGULAR}", re.IGNORECASE | re.ASCII)
_MAX_INTEGER: Final = 2**53 - 1  # 2.10: integers fit a signed 54-bit value
_EXTENSION_TYPES: Final = frozenset(  # 10.5 extension-type-enum
    {"new-sdo", "new-sco", "new-sro", "property-extension", "toplevel-property-extension"}
)
_HASH_ALGORITHMS: Final = frozenset(  # 10.7 hash-algorithm-ov
    {"MD5", "SHA-1", "SHA-256", "SHA-512", "SHA3-256", "SHA3-512", "SSDEEP", "TLSH"}
)

# --- property kinds -----------------------------------------------------------------------------

_KIND_NAMES = {
    "s": "spec_version name description pattern pattern_type pattern_version context identity_class"
    " contact_information objective region country administrative_area city street_address postal_code"
    " product version configuration_version analysis_engine_version analysis_definition_version result_name"
    " result abstract content explanation opinion relationship_type tool_version sophistication"
    " resource_level primary_motivation definition_type schema mime_type url encryption_algorithm"
    " decryption_key rir path path_enc value display_name content_type message_id subject body name_enc"
    " cwd command_line cpe swid vendor user_id credential account_login account_type key serial_number"
    " signature_algorithm issuer subject_public_key_algorithm subject_public_key_modulus",
    "l": "lang",
    "b": "revoked is_family summary defanged is_multipart is_active is_hidden is_service_account"
    " is_privileged can_escalate_privs is_disabled is_self_signed",
    "i": "confidence number_observed count number size src_port dst_port src_byte_count dst_byte_count"
    " src_packets dst_packets pid number_of_subkeys subject_public_key_exponent",
    "f": "latitude longitude precision",
    "c": "created modified",
    "t": "valid_from valid_until first_seen last_seen published first_observed last_observed submitted"
    " analysis_started analysis_ended start_time stop_time object_modified ctime mtime atime date start"
    " end created_time account_created account_expires credential_last_changed account_first_login"
    " account_last_login modified_time validity_not_before validity_not_after",
    "a": "created_by_ref",
    "r": "object_ref sighting_of_ref source_ref target_ref host_vm_ref operating_system_ref"
    " sample_ref belongs_to_ref from_ref sender_ref raw_email_ref parent_directory_ref content_ref src_ref"
    " dst_ref src_payload_ref dst_payload_ref encapsulated_by_ref creator_user_ref image_ref parent_ref",
    "S": "labels aliases roles sectors indicator_types infrastructure_types goals secondary_motivations"
    " personal_motivations threat_actor_types malware_types architecture_execution_envs"
    " implementation_languages capabilities modules authors report_types tool_types extension_types"
    " extension_properties received_lines protocols languages",
    "P": "object_marking_refs",
    "R": "object_refs observed_data_refs where_sighted_refs operating_system_refs"
    " sample_refs installed_software_refs analysis_sco_refs resolves_to_refs belongs_to_refs to_refs"
    " cc_refs bcc_refs contains_refs encapsulates_refs opened_connection_refs child_refs",
    "K": "kill_chain_phases",
    "E": "external_references",
    "G": "granular_markings",
    "H": "hashes",
    "X": "extensions",
    "D": "contents additional_header_fields ipfix environment_variables",
    "h": "magic_number_hex",
    "B": "payload_bin",
    "M": "definition",
    "O": "objects body_multipart values x509_v3_extensions",
}
KIND: Final = {name: kind for kind, names in _KIND_NAMES.items() for name in names.split()}

_SDO_COMMON = (
    "spec_version created_by_ref created modified revoked labels confidence lang external_references"
    " object_marking_refs granular_markings extensions"
)
_SCO_COMMON = "spec_version object_marking_refs granular_markings defanged extensions"
_SDO = {  # SDOs and the two SROs, which share the SDO common properties
    "attack-pattern": "name description aliases kill_chain_phases",
    "campaign": "name description aliases first_seen last_seen objective",
    "course-of-action": "name description",
    "grouping": "name description context object_refs",
    "identity": "name description roles identity_class sectors contact_information",
    "incident": "name description kill_chain_phases",
    "indicator": "name description indicator_types pattern pattern_type pattern_version valid_from"
    " valid_until kill_chain_phases",
    "infrastructure": "name description infrastructure_types aliases kill_chain_phases first_seen last_seen",
    "intrusion-set": "name description aliases first_seen last_seen goals resource_level primary_motivation"
    " secondary_motivations",
    "location": "name description latitude longitude precision region country administrative_area city"
    " street_address postal_code",
    "malware": "name description malware_types is_family aliases kill_chain_phases first_seen last_seen"
    " operating_system_refs architecture_execution_envs implementation_languages capabilities sample_refs",
    "malware-analysis": "product version host_vm_ref operating_system_ref installed_software_refs"
    " configuration_version modules analysis_engine_version analysis_definition_version submitted"
    " analysis_started analysis_ended result_name result analysis_sco_refs sample_ref",
    "note": "abstract content authors object_refs",
    "observed-data": "first_observed last_observed number_observed objects object_refs",
    "opinion": "explanation authors opinion object_refs",
    "report": "name description report_types published object_refs",
    "threat-actor": "name description threat_actor_types aliases first_seen last_seen roles goals"
    " sophistication resource_level primary_motivation secondary_motivations personal_motivations",
    "tool": "name description tool_types aliases kill_chain_phases tool_version",
    "vulnerability": "name description",
    "relationship": "relationship_type description source_ref target_ref start_time stop_time",
    "sighting": "description first_seen last_seen count sighting_of_ref observed_data_refs where_sighted_refs summary",
}
_SCO = {
    "artifact": "mime_type payload_bin url hashes encryption_algorithm decryption_key",
    "autonomous-system": "number name rir",
    "directory": "path path_enc ctime mtime atime contains_refs",
    "domain-name": "value resolves_to_refs",
    "email-addr": "value display_name belongs_to_ref",
    "email-message": "is_multipart date content_type from_ref sender_ref to_refs cc_refs bcc_refs"
    " message_id subject received_lines additional_header_fields body body_multipart raw_email_ref",
    "file": "hashes size name name_enc magic_number_hex mime_type ctime mtime atime parent_directory_ref"
    " contains_refs content_ref",
    "ipv4-addr": "value resolves_to_refs belongs_to_refs",
    "ipv6-addr": "value resolves_to_refs belongs_to_refs",
    "mac-addr": "value",
    "mutex": "name",
    "network-traffic": "start end is_active src_ref dst_ref src_port dst_port protocols src_byte_count"
    " dst_byte_count src_packets dst_packets ipfix src_payload_ref dst_payload_ref encapsulates_refs"
    " encapsulated_by_ref",
    "process": "is_hidden pid created_time cwd command_line environment_variables opened_connection_refs"
    " creator_user_ref image_ref parent_ref child_refs",
    "software": "name cpe swid languages vendor version",
    "url": "value",
    "user-account": "user_id credential account_login account_type display_name is_service_account"
    " is_privileged can_escalate_privs is_disabled account_created account_expires credential_last_changed"
    " account_first_login account_last_login",
    "windows-registry-key": "key values modified_time creator_user_ref number_of_subkeys",
    "x509-certificate": "is_self_signed hashes version serial_number signature_algorithm issuer"
    " validity_not_before validity_not_after subject subject_public_key_algorithm subject_public_key_modulus"
    " subject_public_key_exponent x509_v3_extensions",
}
# 3.2's table of common properties per object category, for the three meta objects.
_META = {
    "language-content": "spec_version created_by_ref created modified revoked labels confidence"
    " external_references object_marking_refs granular_markings extensions object_ref object_modified contents",
    "marking-definition": "spec_version created_by_ref created external_references object_marking_refs"
    " granular_markings extensions name definition_type definition",
    "extension-definition": "spec_version created_by_ref created modified revoked labels external_references"
    " object_marking_refs granular_markings name description schema version extension_types"
    " extension_properties",
}


def _kinds(names: str) -> dict[str, str]:
    return {name: KIND[name] for name in names.split()}


SCO_TYPES: Final = frozenset(_SCO)
# Objects that carry created and modified (3.2): SDOs, SROs, language-content, extension-definition.
VERSIONED_TYPES: Final = frozenset(_SDO) | {"language-content", "extension-definition"}
# Every type the specification defines, with the kind of each of its properties ("type" and
# "id" are checked on their own and left out).
TYPE_KINDS: Final = {
    **{t: _kinds(f"{_SDO_COMMON} {names}") for t, names in _SDO.items()},
    **{t: _kinds(f"{_SCO_COMMON} {names}") for t, names in _SCO.items()},
    **{t: _kinds(names) for t, names in _META.items()},
}
# Custom objects (11.2.1) carry the common properties with their common meaning.
CUSTOM_KINDS: Final = _kinds(f"{_SDO_COMMON} defanged")


def show(value: Any) -> str:
    """A value as it may appear in a message: repr, cut to 80 characters."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def wrong_type(name: str, expected: str, value: Any) -> Problem:
    return "property-type", f"{name} must be {expected}, not {show(value)}"


# --- one check per property kind ---------------------------------------------------------------


def _string(name: str, value: Any) -> Problem | None:
    return None if type(value) is str else wrong_type(name, "a string", value)


def _lang(name: str, value: Any) -> Problem | None:
    if type(value) is not str:
        return wrong_type(name, "a string", value)
    return None if LANG_RE.fullmatch(value) else ("lang-tag", f"{name} {show(value)} is not an RFC 5646 tag")


def _boolean(name: str, value: Any) -> Problem | None:
    return None if type(value) is bool else wrong_type(name, "true or false", value)


def _integer(name: str, value: Any) -> Problem | None:
    if type(value) is not int:
        return wrong_type(name, "an integer", value)
    if name == "confidence" and not 0 <= value <= 100:
        return "confidence-range", f"confidence {value} is outside 0-100"
    if not -_MAX_INTEGER <= value <= _MAX_INTEGER:
        return "integer-range", f"{name} {value} does not fit 54 bits"
    return None


def _float(name: str, value: Any) -> Problem | None:
    ok = type(value) is int or (type(value) is float and math.isfinite(value))
    return None if ok else wrong_type(name, "a finite number", value)


def _timestamp(name: str, value: Any) -> Problem | None:
    if type(value) is not str:
        return wrong_type(name, "a timestamp string", value)
    if not TIMESTAMP_RE.fullmatch(value):
        return "timestamp-format", f"{name} {show(value)} is not YYYY-MM-DDTHH:mm:ss[.s+]Z"
    return None


def _versioning_timestamp(name: str, value: Any) -> Problem | None:
    problem = _timestamp(name, value)
    if problem is None and len(value) < 24:  # "YYYY-MM-DDTHH:mm:ss.sssZ" is 24 characters
        return "timestamp-precision", f"{name} {value} is less precise than milliseconds"
    return problem


def _identifier(name: str, value: Any, of_type: str | None = None) -> Problem | None:
    if type(value) is not str:
        return wrong_type(name, "an identifier string", value)
    match = IDENTIFIER_RE.fullmatch(value)
    if match is None or not 3 <= len(match.group(1)) <= 250:
        return "identifier-ref", f"{name} {show(value)} is not <type>--<RFC 4122 UUID>"
    if of_type is not None and match.group(1) != of_type:
        return "identifier-ref", f"{name} {show(value)} does not refer to a {of_type}"
    return None


def _marking_ref(name: str, value: Any) -> Problem | None:
    return _identifier(name, value, "marking-definition")


def _list(name: str, value: Any, item: Check) -> Problem | None:
    if type(value) is not list:
        return wrong_type(name, "a list", value)
    if not value:
        return "empty-value", f"{name} is an empty list"
    for index, element in enumerate(value):
        problem = item(f"{name}[{index}]", element)
        if problem is not None:
            return problem
    return None


def _object(name: str, value: Any, fields: Mapping[str, Check]) -> Problem | None:
    if type(value) is not dict:
        return wrong_type(name, "an object", value)
    for field, check in fields.items():
        if field in value:
            problem = check(f"{name}.{field}", value[field])
            if problem is not None:
                return problem
    return None


def _hashes(name: str, value: Any) -> Problem | None:
    if type(value) is not dict:
        return wrong_type(name, "an object", value)
    if not value:
        return "empty-value", f"{name} is an empty dictionary"
    for key, digest in value.items():
        if not _HASH_KEY_RE.fullmatch(key):
            return "hashes", f"{name} key {show(key)} is not 3-250 of [a-zA-Z0-9_-]"
        if type(digest) is not str:
            return "hashes", f"{name}.{key} must be a string, not {show(digest)}"
    return None


def _reference_hashes(name: str, value: Any) -> Problem | None:
    problem = _hashes(name, value)
    if problem is None and not value.keys() <= _HASH_ALGORITHMS:
        return "hashes", f"{name} keys {sorted(value.keys() - _HASH_ALGORITHMS)} are not in hash-algorithm-ov"
    return problem


def _external_reference(name: str, value: Any) -> Problem | None:
    problem = _object(name, value, _EXTERNAL_REFERENCE_FIELDS)
    if problem is None:
        pattern = _EXTERNAL_ID_RE.get(value.get("source_name"))
        external_id = value.get("external_id")
        if pattern is not None and external_id is not None and not pattern.fullmatch(external_id):
            return "external-id", f"{name}: {value['source_name']} id {show(external_id)} is malformed"
    return problem


def _dictionary(name: str, value: Any) -> Problem | None:
    if type(value) is not dict:
        return wrong_type(name, "an object", value)
    return None if value else ("empty-value", f"{name} is an empty dictionary")


def _extensions(name: str, value: Any) -> Problem | None:
    """Keys name an extension definition or an "-ext" extension; extension-definition extensions
    say what they extend (extension_type), which stix2 does not require."""
    problem = _dictionary(name, value)
    if problem is not None:
        return problem
    for key, ext in value.items():
        by_definition = key.startswith("extension-definition--")
        if by_definition and _identifier(key, key, "extension-definition") is not None:
            return "extension", f"{name} key {show(key)} is not an extension-definition id"
        if not by_definition and not _EXTENSION_NAME_RE.fullmatch(key):
            return "extension", f"{name} key {show(key)} is neither an extension-definition id nor *-ext"
        if type(ext) is not dict:
            return wrong_type(f"{name}.{key}", "an object", ext)
        if not ext:
            return "extension", f"{name}.{key} has no properties"
        if by_definition and "extension_type" not in ext:
            return "extension", f"{name}.{key} has no extension_type"
        if "extension_type" in ext and ext["extension_type"] not in _EXTENSION_TYPES:
            return "extension", f"{name}.{key}.extension_type {show(ext['extension_type'])} is not allowed"
    return None


def _hex(name: str, value: Any) -> Problem | None:
    if type(value) is not str:
        return wrong_type(name, "a hex string", value)
    return None if _HEX_RE.fullmatch(value) else ("hex", f"{name} {show(value)} is not lower-case hex octets")


def _binary(name: str, value: Any) -> Problem | None:
    if type(value) is not str:
        return wrong_type(name, "a base64 string", value)
    return None if _BASE64_RE.fullmatch(value) else ("binary", f"{name} is not RFC 4648 base64")


_EXTERNAL_REFERENCE_FIELDS: Final = {
    "source_name": _string,
    "description": _string,
    "url": _string,
    "external_id": _string,
    "hashes": _reference_hashes,
}
_KILL_CHAIN_FIELDS: Final = {"kill_chain_name": _string, "phase_name": _string}
_GRANULAR_FIELDS: Final[dict[str, Check]] = {
    "lang": _lang,
    "marking_ref": _marking_ref,
    "selectors": lambda n, v: _list(n, v, _string),
}
CHECKS: Final[dict[str, Check]] = {
    "s": _string,
    "l": _lang,
    "b": _boolean,
    "i": _integer,
    "f": _float,
    "t": _timestamp,
    "c": _versioning_timestamp,
    "r": _identifier,
    "a": lambda n, v: _identifier(n, v, "identity"),
    "S": lambda n, v: _list(n, v, _string),
    "R": lambda n, v: _list(n, v, _identifier),
    "P": lambda n, v: _list(n, v, _marking_ref),
    "K": lambda n, v: _list(n, v, lambda n2, v2: _object(n2, v2, _KILL_CHAIN_FIELDS)),
    "E": lambda n, v: _list(n, v, _external_reference),
    "G": lambda n, v: _list(n, v, lambda n2, v2: _object(n2, v2, _GRANULAR_FIELDS)),
    "H": _hashes,
    "X": _extensions,
    "D": _dictionary,
    "h": _hex,
    "B": _binary,
    "M": lambda n, v: _object(n, v, {"tlp": _string, "statement": _string}),
    "O": lambda n, v: None,  # nested structures stix2 parses and type-checks itself
}
