# Rules SENT-1..SENT-4 and RECV-1, RECV-2, from the source document's sections
# "Sent" and "Received".
Feature: Sent and received times
  The target keeps both times as instants in UTC. Without a sent time it takes one:
  the received time when there is one, else its own clock at creation. A received
  time is stored only when the client gave one.

  @SENT-1 @api
  Scenario Outline: A sent time with an offset is stored as the same instant in UTC
    Given a message from a practitioner to a patient
    And its sent time is "<given>"
    When it is submitted
    Then the target accepts it as a new message
    And the stored sent time is the instant "<in UTC>"

    Examples:
      | given                         | in UTC                    |
      | 2021-04-29T09:30:00-04:00     | 2021-04-29T13:30:00Z      |
      | 2022-02-10T20:34:00+05:30     | 2022-02-10T15:04:00Z      |
      | 2021-04-29T09:30:00.250-04:00 | 2021-04-29T13:30:00.250Z  |
      | 2021-04-29T13:30:00.000Z      | 2021-04-29T13:30:00Z      |

  @SENT-2 @api
  Scenario: Without sent or received, sent is the target's time of creation
    Given the target's clock stands still at "2022-02-10T15:04:00Z" where the target lets it be set
    And a message from a practitioner to a patient
    And it has no sent time
    And it has no received time
    When it is submitted
    Then the target accepts it as a new message
    And the stored sent time is the target's time of creation

  @SENT-3 @api
  Scenario Outline: With only a received time, sent takes the received instant
    Given a message from a patient to a practitioner
    And it has no sent time
    And its received time is "<received>"
    When it is submitted
    Then the target accepts it as a new message
    And the stored sent time is the instant "<in UTC>"
    And the stored received time is the instant "<in UTC>"

    Examples:
      | received                  | in UTC               |
      | 2021-04-29T13:35:00Z      | 2021-04-29T13:35:00Z |
      | 2021-04-29T09:35:00-04:00 | 2021-04-29T13:35:00Z |

  @SENT-4 @api
  Scenario Outline: With both times given, each is stored as given
    Given a message from a practitioner to a patient
    And its sent time is "<sent>"
    And its received time is "<received>"
    When it is submitted
    Then the target accepts it as a new message
    And the stored sent time is the instant "<sent>"
    And the stored received time is the instant "<received>"

    Examples:
      | sent                 | received             |
      | 2021-04-29T13:30:00Z | 2021-04-30T08:15:00Z |
      | 2022-02-10T15:04:00Z | 2022-02-10T14:00:00Z |

  @RECV-1 @api
  Scenario Outline: A received time with an offset is stored as the same instant in UTC
    Given a message from a practitioner to a patient
    And its received time is "<given>"
    When it is submitted
    Then the target accepts it as a new message
    And the stored received time is the instant "<in UTC>"

    Examples:
      | given                         | in UTC                   |
      | 2021-04-29T10:00:00-04:00     | 2021-04-29T14:00:00Z     |
      | 2021-04-30T01:15:00+09:00     | 2021-04-29T16:15:00Z     |
      | 2021-04-29T10:00:00.500-04:00 | 2021-04-29T14:00:00.500Z |

  @RECV-2 @api
  Scenario Outline: Without a received time, none is stored
    Given a message from <sender> to <recipient>
    And it has no received time
    And <sent>
    When it is submitted
    Then the target accepts it as a new message
    And the stored message has no received time

    Examples:
      | sender          | recipient       | sent                                   |
      | a practitioner  | a patient       | its sent time is "2021-04-29T13:30:00Z" |
      | a patient       | a practitioner  | it has no sent time                     |

  @SENT-1 @api @explored
  Scenario: Any sent time with an offset reads back as the same instant in UTC (explored)
    Given the rule's input space as written down
    When cases drawn from it are sent to the target
    Then every case keeps the rule

  @SENT-2 @api @explored
  Scenario: Without sent or received, sent is the target's time of creation, whenever that is (explored)
    Given the rule's input space as written down
    When cases drawn from it are sent to the target
    Then every case keeps the rule

  @SENT-3 @api @explored
  Scenario: Any received time given alone is also the stored sent instant (explored)
    Given the rule's input space as written down
    When cases drawn from it are sent to the target
    Then every case keeps the rule

  @SENT-4 @api @explored
  Scenario: Any sent and received times given together are each stored as given (explored)
    Given the rule's input space as written down
    When cases drawn from it are sent to the target
    Then every case keeps the rule

  @RECV-1 @api @explored
  Scenario: Any received time with an offset reads back as the same instant in UTC (explored)
    Given the rule's input space as written down
    When cases drawn from it are sent to the target
    Then every case keeps the rule

  @RECV-2 @api @explored
  Scenario: Without a received time none is stored, whatever sent is (explored)
    Given the rule's input space as written down
    When cases drawn from it are sent to the target
    Then every case keeps the rule
