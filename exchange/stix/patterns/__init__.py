"""The STIX 2.1 pattern engine: one parse into a small immutable tree, then validation, observable
extraction, rendering and matching from that tree (decision 0009). No ANTLR on the hot path;
``stix2-patterns`` is only the oracle the tests compare against."""
