"""TAXII 2.1 server endpoints (OASIS TAXII 2.1 CS01, sections 4 and 5): routers only; the logic
lives in ``exchange.stix``."""
