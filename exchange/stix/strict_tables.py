"""What STIX 2.1 says each property *is*: the kind of every property of every object type.

:mod:`exchange.stix.strict` looks a property's kind up here and checks its value with the check
for that kind (``CHECKS`` in :mod:`exchange.stix.strict_props`, whose docstring lists the
one-letter kinds and says why values are checked before stix2 sees them). The tables list, per
type, exactly the properties the specification defines ("type" and "id" aside);
tests/stix/test_strict_rules.py holds them against stix2's own definitions. Section numbers:
STIX 2.1 (Errata 01 edition).
"""

from __future__ import annotations

from typing import Final

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
