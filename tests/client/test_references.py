"""references.py: which values name a resource, and which one (table-driven)."""
from __future__ import annotations

import pytest

from canvas_conformance.references import Reference, parse_reference

NAMED = [
    ("Patient/p1", Reference("Patient", "p1")),
    ("Practitioner/4150cd20de8a470aa570a852859ac87e", Reference("Practitioner", "4150cd20de8a470aa570a852859ac87e")),
    ("Patient/A-1.b", Reference("Patient", "A-1.b")),
    ("Patient/" + "x" * 64, Reference("Patient", "x" * 64)),
    ("https://example.org/fhir/Patient/p1", Reference("Patient", "p1")),
    ("http://127.0.0.1:5000/Practitioner/d1", Reference("Practitioner", "d1")),
    ("HTTPS://example.org/a/b/c/Patient/p1", Reference("Patient", "p1")),
    ("http://[::1]:8080/Patient/p1", Reference("Patient", "p1")),
]

NOT_REFERENCES = [
    None, 5, 5.0, True, {}, {"reference": "Patient/p1"}, ["Patient/p1"], b"Patient/p1",
    "", "Patient", "Patient/", "/p1", "Patient//p1", "a/b/c", "Patient/p1/", "/Patient/p1", "fhir/Patient/p1",
    "Patient/1/_history/2", "patient/p1", "P/p1", "Patient/p 1", " Patient/p1", "Patient/p1 ",
    "Patient/" + "x" * 65, "Patient/p1?x=1", "Patient?identifier=1", "#contained", "Patient/p1#x",
    "urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e", "https://example.org", "https://example.org/",
    "https://example.org/p1", "https:///Patient/p1", "ftp://example.org/Patient/p1",
    "https://example.org/Patient/p1?_format=json", "https://example.org/Patient/p1/_history/2",
    "http://[::1/Patient/p1", "Patient/p\u00e9",
]


@pytest.mark.parametrize("value, named", NAMED)
def test_what_a_reference_names(value, named):
    assert parse_reference(value) == named


@pytest.mark.parametrize("value", NOT_REFERENCES)
def test_what_names_nothing_reads_as_none(value):
    assert parse_reference(value) is None


def test_a_reference_reads_back_in_its_relative_form():
    assert str(parse_reference("https://example.org/fhir/Patient/p1")) == "Patient/p1"
    assert parse_reference(str(Reference("Practitioner", "d1"))) == Reference("Practitioner", "d1")
    assert Reference("Patient", "p1") == ("Patient", "p1")  # a plain pair, for comparisons and unpacking
