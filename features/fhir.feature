# Inferred rules FHIR-1..FHIR-8: not stated by the source document, but implied by
# FHIR R4 REST conventions and by Canvas's current public API documentation
# (see the catalogue's "section" of each rule). FHIR-9 and FHIR-10 (profile canvas-current): Canvas's v2
# migration guide (a correlation id on every response; header fumage-correlation-id in
# submit-vitals-via-fhir.md) and its error examples (errors.md, create-response.html: one issue code
# per status).
Feature: FHIR REST conventions the endpoint is expected to follow
  What a FHIR R4 server, and Canvas's API as documented today, do beyond the
  document's page: structural errors answer 400, every error is an
  OperationOutcome that says what was wrong, tokens are required, references must
  point at people who exist, a message is between a patient and a practitioner,
  messages cannot be changed, searches page, and JSON goes both ways.

  @FHIR-1 @api
  Scenario Outline: A body that is not a Communication is refused with 400
    Given a message from a practitioner to a patient
    And its body is <body>
    When it is submitted
    Then it is rejected with status 400 and an OperationOutcome
    And nothing was stored

    Examples:
      | body                              |
      | text that is not JSON             |
      | a JSON array holding the message  |
      | a resource of type "Patient"      |
      | a message without a resourceType  |

  @FHIR-1 @api
  Scenario Outline: A malformed date-time is refused with 400
    Given a message from a practitioner to a patient
    And its <element> time is "<value>"
    When it is submitted
    Then it is rejected with status 400 and an OperationOutcome
    And nothing was stored

    Examples:
      | element  | value                 |
      | sent     | 2021-02-30T25:00:00Z  |
      | sent     | 2021-13-01T10:00:00Z  |
      | sent     | yesterday at noon     |
      | received | 2021-04-29T10:61:00Z  |

  @FHIR-2 @api
  Scenario Outline: Each refusal is an OperationOutcome saying what was wrong
    Given a message from a practitioner to a patient
    And <problem>
    When it is submitted
    Then it is rejected with a client error and an OperationOutcome
    And every issue has a severity, a code and a text saying what was wrong
    And the issues' text mentions "<word>"

    Examples:
      | problem                                         | word      |
      | its recipient is absent                         | recipient |
      | its sender is absent                            | sender    |
      | its payload is absent                           | payload   |
      | its sent time is "2021-02-30T25:00:00Z"         | sent      |
      | its recipient is "Location/x"                   | recipient |
      | its message text is "" given as contentString   | content   |

  @FHIR-2 @api
  Scenario Outline: Bad input never gets a server error
    Given a message from a practitioner to a patient
    And <problem>
    When it is submitted
    Then the answer is not a server error
    And it is rejected with a client error and an OperationOutcome
    And nothing was stored

    Examples:
      | problem                                   |
      | its body is text that is not JSON         |
      | its recipient is a single object, not a list |
      | its payload is a single object, not a list   |
      | its sent time is a number                  |
      | its sender is "Practitioner/../../etc"      |

  @FHIR-3 @api
  Scenario Outline: A create without a valid bearer token is refused with 401
    Given a message from a practitioner to a patient
    When it is submitted with <credential>
    Then it is rejected with status 401 and an OperationOutcome
    And nothing was stored

    Examples:
      | credential             |
      | no bearer token        |
      | an unknown bearer token |
      | an expired bearer token |

  @FHIR-3 @api
  Scenario: Reading a message needs a bearer token too
    Given a message from a practitioner to a patient
    When it is submitted
    Then the target accepts it as a new message
    When the new message is read with no bearer token
    Then the answer is 401 with an OperationOutcome

  @FHIR-3 @api
  Scenario: Client credentials are exchanged for a bearer token
    Given the run has client credentials for the target
    When a bearer token is requested for them
    Then the target grants a bearer token with its lifetime and scope

  @FHIR-4 @api
  Scenario Outline: A reference to someone who does not exist is refused
    Given a message from <sender> to <recipient>
    And its <party> is a <kind> that does not exist
    When it is submitted
    Then it is rejected with a client error and an OperationOutcome
    And nothing was stored

    Examples:
      | sender         | recipient      | party     | kind         |
      | a practitioner | a patient      | recipient | Patient      |
      | a practitioner | a patient      | sender    | Practitioner |
      | a patient      | a practitioner | recipient | Practitioner |
      | a patient      | a practitioner | sender    | Patient      |

  @FHIR-5 @api
  Scenario Outline: A message between two people of the same kind is refused
    Given a message from <sender> to <recipient>
    When it is submitted
    Then it is rejected with a client error and an OperationOutcome
    And nothing was stored

    Examples:
      | sender         | recipient            |
      | a practitioner | another practitioner |
      | a patient      | another patient      |

  @FHIR-6 @api
  Scenario: Reading a message that does not exist answers 404
    When a message that does not exist is read
    Then the answer is 404 with an OperationOutcome

  @FHIR-6 @api
  Scenario Outline: A stored message cannot be changed
    Given a message from a practitioner to a patient
    When it is submitted
    Then the target accepts it as a new message
    When someone tries to <change> the new message
    Then the answer is 405
    And the new message still reads back as it was stored

    Examples:
      | change  |
      | replace |
      | delete  |

  @FHIR-7 @api
  Scenario: A patient's messages are found page by page
    Given a patient has 5 new messages from a practitioner
    When the patient's messages are searched 2 at a time
    Then the search total counts every message of the patient
    And every page holds at most 2 messages and together they hold all of them
    And every page links to itself, the first and the last page, and to the next page unless it is the last

  @FHIR-7 @api
  Scenario: Without a page size a search answers 10 at a time
    Given a patient has 11 new messages from a practitioner
    When the patient's messages are searched without a page size
    Then the first page holds 10 messages
    And the first page links to the next page

  @FHIR-7 @api
  Scenario: A search that finds nothing answers an empty searchset
    When messages are searched by an id no message has
    Then the search finds nothing, and in canvas-current it has no paging links

  @FHIR-7 @api
  Scenario Outline: A message is found by its <key>
    Given a message from a practitioner to a patient
    When it is submitted
    Then the target accepts it as a new message
    When messages are searched by the new message's <key>
    Then the new message is among those found
    And every message found has that <key>

    Examples:
      | key       |
      | id        |
      | sender    |
      | recipient |
      | patient   |

  @FHIR-8 @api
  Scenario Outline: Both JSON media types are accepted and answers are JSON
    Given a message from a practitioner to a patient
    And it is sent as <media type>
    When it is submitted
    Then the target accepts it as a new message
    And reading it back answers JSON
    And a refused message is answered in JSON too

    Examples:
      | media type            |
      | application/json      |
      | application/fhir+json |

  @FHIR-1 @api @explored
  Scenario: Any body that is no Communication, or any malformed time, is refused with 400 (explored)
    Given the rule's input space as written down
    When cases drawn from it are sent to the target
    Then every case keeps the rule

  @FHIR-2 @api @explored
  Scenario: Any bad input is answered by an OperationOutcome saying what was wrong, never a 5xx (explored)
    Given the rule's input space as written down
    When cases drawn from it are sent to the target
    Then every case keeps the rule

  @FHIR-3 @api @explored
  Scenario: Any request without a valid bearer token is refused with 401 (explored)
    Given the rule's input space as written down
    When cases drawn from it are sent to the target
    Then every case keeps the rule

  @FHIR-4 @api @explored
  Scenario: A reference to anyone who does not exist, of any id, is refused (explored)
    Given the rule's input space as written down
    When cases drawn from it are sent to the target
    Then every case keeps the rule

  @FHIR-5 @api @explored
  Scenario: Any message between two people of the same kind is refused (explored)
    Given the rule's input space as written down
    When cases drawn from it are sent to the target
    Then every case keeps the rule

  @FHIR-6 @api @explored
  Scenario: Unknown ids of any shape answer 404, and no change of a message is made (explored)
    Given the rule's input space as written down
    When cases drawn from it are sent to the target
    Then every case keeps the rule

  @FHIR-7 @api @explored
  Scenario: Searches page correctly at every boundary of _count and _offset (explored)
    Given the rule's input space as written down
    When cases drawn from it are sent to the target
    Then every case keeps the rule

  @FHIR-8 @api @explored
  Scenario: Both JSON media types, with any parameters and letter case, are accepted and answered in JSON (explored)
    Given the rule's input space as written down
    When cases drawn from it are sent to the target
    Then every case keeps the rule

  @FHIR-9 @api
  Scenario Outline: Every answer carries a correlation id: <request>
    When the target is sent <request>
    Then the answer carries a fumage-correlation-id header

    Examples:
      | request                                        |
      | a valid create                                 |
      | a read of a stored message                     |
      | a search of a patient's messages               |
      | a token request                                |
      | a create without recipient                     |
      | a create with no bearer token                  |
      | a read of an unknown id                        |
      | a delete of a stored message                   |
      | a create from a practitioner to a practitioner |

  @FHIR-10 @api
  Scenario Outline: An error's issue code fits its status: <request>
    When the target is sent <request>
    Then the error's issue codes fit its status

    Examples:
      | request                                        |
      | a create whose body is not JSON                |
      | a create without recipient                     |
      | a create with no bearer token                  |
      | a read with a made-up bearer token             |
      | a read of an unknown id                        |
      | a delete of a stored message                   |
      | a create from a practitioner to a practitioner |

  @FHIR-9 @api @explored
  Scenario: Every answer to every kind of request, in either direction, carries a correlation id (explored)
    Given the rule's input space as written down
    When cases drawn from it are sent to the target
    Then every case keeps the rule

  @FHIR-10 @api @explored
  Scenario: Every error the suite provokes has issue codes that fit its status (explored)
    Given the rule's input space as written down
    When cases drawn from it are sent to the target
    Then every case keeps the rule
