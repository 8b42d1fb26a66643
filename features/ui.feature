# Rules UI-1..UI-5, from the source document's section "Finding the message in the
# Canvas UI". They are about what people see in Canvas's pages, not API answers: each
# scenario creates its messages through the API, then the pages are read. Where the
# target serves the reference mock's pages, a headless Chromium signs in and reads them
# as a person would; elsewhere the scenario is "manual", with numbered steps for a
# person and the ids of the messages this run created for them.
Feature: Seeing a created message in the Canvas UI
  A message created through the API shows on the chart timeline of the patient it
  involves. A practitioner's message is a draft the patient does not see until it
  is sent from the chart, which sends no text message; a patient's message is
  already visible to both. The first payload text is what the UI shows.

  Background:
    Given the target's clock stands still at "2022-06-10T15:04:00Z" where the target lets it be set

  @UI-1 @ui
  Scenario: Messages sit on the patient's chart timeline in the order they were created
    Given a message from a practitioner to a patient
    And its sent time is "2022-02-10T15:04:00Z"
    When it is submitted
    Then the target accepts it as a new message
    When two more messages to the same patient, sent 12 and 6 months before the first, are submitted a minute apart
    Then the target accepts them as new messages too
    And the patient's chart timeline shows the three in the order they were created, not the order they were sent

  @UI-2 @ui
  Scenario: A practitioner's message is a draft by Canvas Bot, hidden from the patient
    Given a message from a practitioner to a patient
    And its sent time is "2022-02-10T15:04:00Z"
    When it is submitted
    Then the target accepts it as a new message
    And the chart shows it as a draft captioned as drafted by Canvas Bot, with a Send button
    And the patient app does not show it

  @UI-3 @ui
  Scenario: Sending the draft from the chart sends no SMS and keeps its sent time
    Given a message from a practitioner to a patient
    And its sent time is "2022-02-10T15:04:00Z"
    When it is submitted
    Then the target accepts it as a new message
    And sending the draft from the chart sends no SMS and keeps its sent time
    And from then on the patient app shows it, dated at its sent time

  @UI-4 @ui
  Scenario: A patient's message is not a draft and the patient app shows it
    Given a message from a patient to a practitioner
    When it is submitted
    Then the target accepts it as a new message
    And the chart shows it with its sent date and its recipient, not as a draft
    And the patient app already shows it

  @UI-5 @ui
  Scenario: The UI shows the first payload text as the message, markup as plain text
    Given a message from a practitioner to a patient
    And its message text is "<b>Bring</b> your insurance card & list <i>every</i> medicine" given as contentString
    And its payload has a further element with the text "This second part is not shown."
    When it is submitted
    Then the target accepts it as a new message
    And the chart shows the first payload text as the message, its markup as plain text
