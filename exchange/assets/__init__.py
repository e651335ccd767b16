"""The asset inventory: what each organisation owns (domains, addresses, software), and proof that it does.

Alerts, the web portal and the verification jobs all read it; see docs/decisions/0010-assets.md.
"""
