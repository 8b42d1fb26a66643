# Rule SUBJ-1 (profile canvas-current), from Canvas's v2 Communication page, attribute "subject"
# (communication.md: "exclude_in: create, update"; "Always a Patient reference").
Feature: The subject of a message
  Canvas v2 sets a message's subject to its patient, whichever way the message went. A client
  cannot set it: a subject in the create's body is ignored or the create is refused.

  @SUBJ-1 @api
  Scenario Outline: A message reads back with its patient as the subject
    Given a message from <sender> to <recipient>
    When it is submitted
    Then the target accepts it as a new message
    And the stored subject is the patient

    Examples:
      | sender         | recipient      |
      | a practitioner | a patient      |
      | a patient      | a practitioner |

  @SUBJ-1 @api
  Scenario Outline: A subject given on create never replaces the patient
    Given a message from <sender> to <recipient>
    And its subject is <subject>
    When it is submitted
    Then the subject given is ignored or the message is refused

    Examples:
      | sender         | recipient      | subject         |
      | a practitioner | a patient      | another patient |
      | a patient      | a practitioner | a practitioner  |

  @SUBJ-1 @api @explored
  Scenario: Whoever sends, and whatever subject the body gives, the read-back's subject is the patient (explored)
    Given the rule's input space as written down
    When cases drawn from it are sent to the target
    Then every case keeps the rule
