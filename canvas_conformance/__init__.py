"""canvas-conformance: conformance harness and command line for Canvas's FHIR Communication API."""

__version__ = "0.1.0"
