# Rules PAY-1..PAY-4, from the source document's section "Payload"; PAY-5 and PAY-6 (profile
# canvas-current) from Canvas's v2 Communication page (payload.contentString required; messages stored as
# HTML since 2022-10-26) and the FHIR v2 migration guide ("content must be named contentString").
Feature: The payload of a message
  A message carries text. Canvas saves the text of the first payload element only,
  refuses an empty one, and takes it from content (the document's example) or
  contentString (FHIR R4), reading it back as contentString.

  @PAY-1 @api
  Scenario Outline: A message without a payload is refused and not stored
    Given a message from a practitioner to a patient
    And its payload is <shape>
    When it is submitted
    Then it is rejected with a client error and an OperationOutcome
    And nothing was stored

    Examples:
      | shape         |
      | absent        |
      | an empty list |

  @PAY-2 @api
  Scenario: Only the first payload element's text is saved
    Given a message from a practitioner to a patient
    And its payload has a further element with the text "This second part is not kept."
    When it is submitted
    Then only the first payload element's text is kept

  @PAY-3 @api
  Scenario Outline: An empty message text is refused and not stored
    Given a message from a practitioner to a patient
    And its message text is "" given as <field>
    And <further>
    When it is submitted
    Then it is rejected with a client error and an OperationOutcome
    And nothing was stored

    Examples:
      | field         | further                                                    |
      | contentString | it has no further payload element                          |
      | content       | it has no further payload element                          |
      | contentString | its payload has a further element with the text "Not kept." |

  @PAY-4 @api
  Scenario Outline: Text given as content or contentString reads back as contentString
    Given a message from a practitioner to a patient
    And its message text is "<text>" given as <field>
    When it is submitted
    Then the target accepts it as a new message
    And the stored payload is the text "<text>" as contentString

    Examples:
      | field         | text                               |
      | content       | You have an upcoming appointment!  |
      | contentString | Your lab results are ready.        |

  @PAY-1 @api @explored
  Scenario: A payload left out, null or empty is refused and nothing is stored (explored)
    Given the rule's input space as written down
    When cases drawn from it are sent to the target
    Then every case keeps the rule

  @PAY-2 @api @explored
  Scenario: Of any list of payload elements only the first element's text is saved (explored)
    Given the rule's input space as written down
    When cases drawn from it are sent to the target
    Then every case keeps the rule

  @PAY-3 @api @explored
  Scenario: Empty text in the first payload element is refused, whatever follows it (explored)
    Given the rule's input space as written down
    When cases drawn from it are sent to the target
    Then every case keeps the rule

  @PAY-4 @api @explored
  Scenario: Any text, given as content or contentString, reads back exactly as contentString (explored)
    Given the rule's input space as written down
    When cases drawn from it are sent to the target
    Then every case keeps the rule

  @PAY-5 @api
  Scenario Outline: Text given only as content, the v1 name, is refused and not stored
    Given a message from <sender> to <recipient>
    And its text is given only as content, the v1 name
    When it is submitted
    Then it is rejected with a client error and an OperationOutcome
    And nothing was stored

    Examples:
      | sender         | recipient      |
      | a practitioner | a patient      |
      | a patient      | a practitioner |

  @PAY-6 @api
  Scenario Outline: The text reads back as sent, or as HTML showing that text
    Given a message from a practitioner to a patient
    And its message text is "<text>" given as contentString
    When it is submitted
    Then the target accepts it as a new message
    And the stored text shows "<text>"

    Examples:
      | text                                   |
      | You have an upcoming appointment!      |
      | Fasting: no food after 8pm & <3 coffee |

  @PAY-5 @api @explored
  Scenario: Any text given only as content is refused, with or without a null contentString or further elements (explored)
    Given the rule's input space as written down
    When cases drawn from it are sent to the target
    Then every case keeps the rule

  @PAY-6 @api @explored
  Scenario: Any text, markup characters, entities and line breaks included, reads back as sent or as HTML showing it (explored)
    Given the rule's input space as written down
    When cases drawn from it are sent to the target
    Then every case keeps the rule
