"""The FHIR values the mock reads and describes, each declared once: ids, references, instants, media types.

validation.py matches requests with them, openapi.py and metadata.py describe them, and the
create schema's copy of the id pattern (``schemas/communication.schema.json``, kept whole as
the FHIR R4 subset it documents) is checked equal to ``ID_PATTERN`` by tests/mock/test_fhir_types.py.
"""
from __future__ import annotations

import re

FHIR_JSON = "application/fhir+json"
# FHIR-8: the media types a create body may be sent as, FHIR's own first.
MEDIA_TYPES = (FHIR_JSON, "application/json")
MEDIA_TYPES_TEXT = " or ".join(MEDIA_TYPES)  # as a person reads them in an answer or a description

# FHIR R4's id: 1 to 64 letters, digits, '-' and '.'.
ID_PATTERN = r"^[A-Za-z0-9\-\.]{1,64}$"
_ID_BODY = ID_PATTERN[1:-1]

# The kinds of people a message passes between (RCPT-2, SNDR-2, FHIR-5).
PARTY_TYPES = ("Patient", "Practitioner")
# A literal reference ``<Type>/<id>``; which types are allowed is for the caller to say.
REFERENCE = re.compile(rf"^(?P<type>[A-Za-z]+)/(?P<id>{_ID_BODY})\Z")  # \Z: "$" would take a trailing newline
# REFERENCE restricted to PARTY_TYPES, as a pattern for documents.
PARTY_REFERENCE_PATTERN = rf"^({'|'.join(PARTY_TYPES)})/{_ID_BODY}$"

# FHIR R4's instant (fhir.schema.json), with dates limited to what a calendar has: the mock
# refuses 2021-02-30 as "not a real date-time", so a description must not promise it.
INSTANT_PATTERN = (r"^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"
                   r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))$")

