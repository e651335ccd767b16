"""The software picker lists only names the organisation may read: a product named in another group's TLP:AMBER
vulnerability is not in a bystander's list, nor on its page, while its recipient sees it; CPE names of software
objects are found too."""

from __future__ import annotations

from playwright.sync_api import Page

from exchange.orgs.models import Org, Role
from exchange.web import wizard_software
from exchange.web.wizard_software import Product
from tests.web.conftest import Portal, sign_in
from tests.web.test_producer_pages import AMBER
from tests.web.test_wizard import vulnerability


def test_the_picker_lists_only_what_the_reader_may_read(portal: Portal, page: Page) -> None:
    victim, _ = portal.person()
    bystander, email = portal.person()
    csirt, _ = portal.person(Role.csirt)
    portal.publish(
        csirt,
        vulnerability({"vendor": "openware", "product": "vault"}, {"cpe": "cpe:2.3:o:Acme:Vault_OS:*"}),
        vulnerability({"vendor": "Palo Alto Networks", "product": "PAN-OS"}),
        vulnerability({"vendor": "secretware", "product": "vault"}, object_marking_refs=[AMBER],
                      x_exchange_recipients=[victim.org.identity_id]),
        {"type": "software", "spec_version": "2.1", "id": "software--6b2a4b4e-9f1e-4d43-9d3f-3f1c6bb7a0c1",
         "name": "Vault Server", "cpe": "cpe:2.3:a:hashi:vault_server:1.0:*:*:*:*:*:*:*"})
    with portal.sessions() as s:
        public = [Product("acme", "vault_os"), Product("hashi", "vault_server"), Product("openware", "vault")]
        assert wizard_software.search(s, s.get_one(Org, bystander.org.pk), "Vault", limit=30) == public
        assert wizard_software.search(s, s.get_one(Org, victim.org.pk), "vault", limit=30) == sorted(
            [*public, Product("secretware", "vault")])
        assert wizard_software.search(s, s.get_one(Org, victim.org.pk), "v", limit=30) == []  # too short
        assert wizard_software.search(s, s.get_one(Org, victim.org.pk), "vault server", limit=30) == [
            Product("hashi", "vault_server")]
        # as an advisory writes it, found as a person types it, picked as a CPE name
        assert wizard_software.search(s, s.get_one(Org, bystander.org.pk), "Palo alto", limit=30) == [
            Product("palo_alto_networks", "pan-os")]
        assert wizard_software.search(s, s.get_one(Org, bystander.org.pk), "PAN-OS", limit=30) == [
            Product("palo_alto_networks", "pan-os")]
    sign_in(page, email)
    page.goto("/welcome/software?q=vault")
    assert page.get_by_label("openware · vault").is_visible()
    assert "secretware" not in page.content()


def test_a_picked_product_becomes_a_cpe_name() -> None:
    assert wizard_software.cpe("openware:vault", " 1.2.3 ") == "cpe:2.3:a:openware:vault:1.2.3:*:*:*:*:*:*:*"
    assert wizard_software.cpe("openware:vault", "") == "cpe:2.3:a:openware:vault:*:*:*:*:*:*:*:*"
