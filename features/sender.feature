# Rules SNDR-1 and SNDR-2, from the source document's section "Sender".
Feature: The sender of a message
  Every message needs a sender, a Practitioner or a Patient.

  @SNDR-1 @api
  Scenario: A message without a sender is refused and not stored
    Given a message from a practitioner to a patient
    And its sender is absent
    When it is submitted
    Then it is rejected with a client error and an OperationOutcome
    And nothing was stored

  @SNDR-2 @api
  Scenario Outline: A sender that is not a Practitioner or Patient reference is refused
    Given a message from a practitioner to a patient
    And its sender is <sender>
    When it is submitted
    Then it is rejected with a client error and an OperationOutcome
    And nothing was stored

    Examples:
      | sender                 |
      | "Organization/abc"     |
      | "RelatedPerson/abc"    |
      | "Device/x"             |
      | "Practitioner/"        |
      | an empty reference     |
      | a display name only    |

  @SNDR-2 @api
  Scenario Outline: A Practitioner or a Patient is accepted as sender
    Given a message from <sender> to <recipient>
    When it is submitted
    Then the target accepts it as a new message
    And the stored sender is the one given

    Examples:
      | sender         | recipient      |
      | a practitioner | a patient      |
      | a patient      | a practitioner |

  @SNDR-1 @api @explored
  Scenario: A sender left out, null or empty is refused and nothing is stored (explored)
    Given the rule's input space as written down
    When cases drawn from it are sent to the target
    Then every case keeps the rule

  @SNDR-2 @api @explored
  Scenario: Any sender that is not a reference to a Practitioner or Patient here is refused (explored)
    Given the rule's input space as written down
    When cases drawn from it are sent to the target
    Then every case keeps the rule
