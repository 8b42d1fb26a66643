# Rules UI-1..UI-5, from the source document's section "Finding the message in the
# Canvas UI", and UI-6 and RECV-3 of the canvas-current profile, from Canvas's v2
# Communication page (docs.canvasmedical.com/api/communication: "Messages created through
# this endpoint will be added to the patient's timeline and in the patient app based on the
# ingestion date into Canvas"; received: "the message will appear on the subject's timeline
# as unread ... The practitioner will have the ability to mark the communication message as
# read in the Canvas UI which will update this attribute"). A scenario runs in each profile
# that has its rule; where a rule reads differently in the two, its steps follow the run's
# profile. They are about what people see in Canvas's pages, not API answers: each
# scenario creates its messages through the API, then the pages are read. Where the
# target serves the reference mock's pages, a headless Chromium signs in and reads them
# as a person would; elsewhere the scenario is "manual", with numbered steps for a
# person and the ids of the messages this run created for them.
Feature: Seeing a created message in the Canvas UI
  A message created through the API shows on the chart timeline of the patient it
  involves. A practitioner's message is a draft the patient does not see until it
  is sent from the chart, which sends no text message; a patient's message is
  already visible to both. The first payload text is what the UI shows. In
  canvas-current no message is a draft: a practitioner's message is in the patient app
  at once, and a patient's message to a practitioner stays unread until marked read.

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
    And where the profile has no drafts, the patient app already lists the three in the order they were created

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

  @UI-5 @ui
  Scenario: The UI shows a message's line break, and its <, > and &, as they were sent
    Given a message from a patient to a practitioner
    And its message text is the two lines "Is 5 < 7 & 9 > 8 still right?" and "Tom & Jerry <tj@example.com> asked too."
    When it is submitted
    Then the target accepts it as a new message
    And the chart and the patient app show its text as it was sent, on two lines

  # canvas-current: Canvas's v2 page says nothing of drafts, a Canvas Bot caption or Send; an
  # API message is created "completed" (a draft reads back as "preparation") and is in the
  # patient app "based on the ingestion date".
  @UI-6 @ui
  Scenario: A practitioner's message is no draft, and the patient app has it at once
    Given a message from a practitioner to a patient
    And its sent time is "2022-02-10T15:04:00Z"
    When it is submitted
    Then the target accepts it as a new message
    And the chart shows it with no draft caption and no Send button
    And the patient app shows it at once, with nothing pressed in the chart
    And 2 days later the chart still shows it with no draft caption and no Send button

  @RECV-3 @ui
  Scenario: A patient's message to a practitioner without a received time is unread until marked read, which stores received
    Given a message from a patient to a practitioner
    And it has no received time
    When it is submitted
    Then the target accepts it as a new message
    And the chart shows it as unread, with a way to mark it read
    When a practitioner marks it read on the chart timeline 5 minutes later
    Then the chart no longer shows it unread
    And the message read back carries received at the moment it was marked read, and its sent time as given
