"""Exchange: a threat-information exchange for CSIRTs, ISACs and SMEs."""

__version__ = "0.1.0"
