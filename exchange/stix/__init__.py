"""The STIX 2.1 store: validation, versioning, TLP, observables, and the one ingest path."""
