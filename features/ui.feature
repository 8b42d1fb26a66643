# Rules UI-1..UI-5, from the source document's section "Finding the message in the
# Canvas UI". These are seen in Canvas's web pages, not in API answers: each
# scenario creates its message through the API, then a person checks the UI by
# hand (reported as "manual") until browser checks exist for the target.
Feature: Seeing a created message in the Canvas UI
  A message created through the API shows on the chart timeline of the patient it
  involves. A practitioner's message is a draft the patient does not see until it
  is sent from the chart, which sends no text message; a patient's message is
  already visible to both. The first payload text is what the UI shows.

  @UI-1 @documented @ui
  Scenario: A created message is on the patient's chart timeline
    Given a message from a practitioner to a patient
    When it is submitted
    Then the target accepts it as a new message
    And the message shows on the patient's chart timeline at its created date

  @UI-2 @documented @ui
  Scenario: A practitioner's message is a draft by Canvas Bot, hidden from the patient
    Given the document's example message
    When it is submitted
    Then the target accepts it as a new message
    And the chart shows it as a draft by Canvas Bot that the patient app does not show

  @UI-3 @documented @ui
  Scenario: Sending the draft from the chart sends no SMS and keeps its sent time
    Given a message from a practitioner to a patient
    When it is submitted
    Then the target accepts it as a new message
    And sending the draft from the chart sends no SMS and keeps its sent time

  @UI-4 @documented @ui
  Scenario: A patient's message is not a draft and the patient app shows it
    Given a message from a patient to a practitioner
    When it is submitted
    Then the target accepts it as a new message
    And the chart shows it with its sent date and recipient, not as a draft, and the patient app shows it

  @UI-5 @documented @ui
  Scenario: The UI shows the first payload text as the message
    Given a message from a practitioner to a patient
    And its payload has a further element with the text "This second part is not shown."
    When it is submitted
    Then the target accepts it as a new message
    And the UI shows the first payload text as the message content
