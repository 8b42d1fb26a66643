# Rules STAT-1 and STAT-2 (profile canvas-current), from Canvas's v2 Communication page, attribute
# "status" (communication.md: required in create; "all communication messages will be created with a
# completed status regardless of what is supplied"; options completed, in-progress, preparation,
# unknown) and the FHIR v2 migration guide ("per Canvas must be set to unknown").
Feature: The status of a message
  Canvas v2 needs a status on every create and stores every message as completed. Its own
  examples all send unknown; whether the other listed values are accepted on create is open,
  so a target may refuse them, but what it accepts reads back completed.

  @STAT-1 @api
  Scenario Outline: A message without a status is refused and not stored
    Given a message from <sender> to <recipient>
    And its status is <status>
    When it is submitted
    Then it is rejected with a client error and an OperationOutcome
    And nothing was stored

    Examples:
      | sender         | recipient      | status        |
      | a practitioner | a patient      | absent        |
      | a patient      | a practitioner | absent        |
      | a practitioner | a patient      | an empty text |

  @STAT-1 @api
  Scenario: The status Canvas's own examples send is accepted
    Given a message from a practitioner to a patient
    And its status is "unknown"
    When it is submitted
    Then the target accepts it as a new message

  @STAT-2 @api
  Scenario Outline: A message sent with the examples' status unknown reads back completed
    Given a message from <sender> to <recipient>
    And its status is "unknown"
    When it is submitted
    Then the target accepts it as a new message
    And the stored status is completed

    Examples:
      | sender         | recipient      |
      | a practitioner | a patient      |
      | a patient      | a practitioner |

  @STAT-1 @api @explored
  Scenario: A status left out, null or empty is refused; unknown is accepted; the other codes in any letter case are accepted or refused (explored)
    Given the rule's input space as written down
    When cases drawn from it are sent to the target
    Then every case keeps the rule

  @STAT-2 @api @explored
  Scenario: Whatever status a message is accepted with, in any letter case, it reads back completed (explored)
    Given the rule's input space as written down
    When cases drawn from it are sent to the target
    Then every case keeps the rule
