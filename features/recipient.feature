# Rules RCPT-1..RCPT-3, from the source document's section "Recipient".
Feature: The recipient of a message
  Every message needs a recipient, and it must be a Patient or a Practitioner.
  Canvas keeps one recipient only: the first in the list.

  @RCPT-1 @api
  Scenario Outline: A message without a recipient is refused and not stored
    Given a message from a practitioner to a patient
    And its recipient is <shape>
    When it is submitted
    Then it is rejected with a client error and an OperationOutcome
    And nothing was stored

    Examples:
      | shape         |
      | absent        |
      | an empty list |

  @RCPT-2 @api
  Scenario Outline: A recipient that is not a Patient or Practitioner reference is refused
    Given a message from a practitioner to a patient
    And its recipient is <recipient>
    When it is submitted
    Then it is rejected with a client error and an OperationOutcome
    And nothing was stored

    Examples:
      | recipient                 |
      | "Location/x"              |
      | "Organization/abc"        |
      | "Patient/"                |
      | "Patient"                 |
      | an empty reference        |
      | a display name only       |

  @RCPT-2 @api
  Scenario Outline: A Patient or a Practitioner is accepted as recipient
    Given a message from <sender> to <recipient>
    When it is submitted
    Then the target accepts it as a new message
    And the stored recipient is the one given

    Examples:
      | sender         | recipient      |
      | a practitioner | a patient      |
      | a patient      | a practitioner |

  @RCPT-3 @api
  Scenario Outline: Only the first recipient is kept
    Given a message from a practitioner to a patient
    And <further> is added as a further recipient
    When it is submitted
    Then only the first recipient is kept

    Examples:
      | further           |
      | another patient   |
      | a practitioner    |

  @RCPT-1 @api @explored
  Scenario: A recipient left out, null or empty is refused and nothing is stored (explored)
    Given the rule's input space as written down
    When cases drawn from it are sent to the target
    Then every case keeps the rule

  @RCPT-2 @api @explored
  Scenario: Any recipient that is not a reference to a Patient or Practitioner here is refused (explored)
    Given the rule's input space as written down
    When cases drawn from it are sent to the target
    Then every case keeps the rule

  @RCPT-3 @api @explored
  Scenario: Of any list of recipients only the first is kept (explored)
    Given the rule's input space as written down
    When cases drawn from it are sent to the target
    Then every case keeps the rule
