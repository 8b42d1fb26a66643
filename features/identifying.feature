# Rules ID-1 and ID-2, from the source document's section
# "Getting the newly-created communication's ID"; ID-3 (profile canvas-current) from Canvas's v2 create
# answer (block-apidoc-responses-created.html: the id in the location header and a null response body).
Feature: Creating a message and finding its id
  A create that the target accepts answers 201 Created and says, in its Location
  header, where the new Communication lives. The id in that header is the server's
  own: it reads back the message just sent, is never taken from the request body,
  and is never handed out twice.

  @ID-1 @api
  Scenario: An accepted message answers 201 with a Location naming it
    Given a message from a practitioner to a patient
    When it is submitted
    Then the target accepts it as a new message
    And the answer's Location names the new Communication

  @ID-1 @api
  Scenario: The document's own example is accepted with a Location naming it
    Given the document's example message
    When it is submitted
    Then the target accepts it as a new message
    And the answer's Location names the new Communication

  @ID-2 @api
  Scenario: The id in the Location reads back the message that was sent
    Given a message from a patient to a practitioner
    When it is submitted
    Then the target accepts it as a new message
    And the stored message has the id named in the Location
    And the stored message is the one that was sent

  @ID-2 @api
  Scenario: An id chosen by the client is not used
    Given a message from a practitioner to a patient
    And it carries an id of the client's choosing
    When it is submitted
    Then the target accepts it as a new message
    And the new message's id is not the one the client chose
    And the stored message has the id named in the Location

  @ID-2 @api
  Scenario: Creates of the same message never share an id
    Given a message from a practitioner to a patient
    When it is submitted 3 times
    Then each of the 3 creates is accepted under an id of its own
    And each of those ids reads back its own message

  @ID-1 @api @explored
  Scenario: Any valid create, in either direction and either JSON media type, answers 201 with a Location naming it (explored)
    Given the rule's input space as written down
    When cases drawn from it are sent to the target
    Then every case keeps the rule

  @ID-2 @api @explored
  Scenario: Any create, with or without an id of the client's, gets an id of its own that reads it back (explored)
    Given the rule's input space as written down
    When cases drawn from it are sent to the target
    Then every case keeps the rule

  @ID-3 @api
  Scenario Outline: An accepted message answers 201 with an empty body or null
    Given a message from <sender> to <recipient>
    When it is submitted
    Then the target accepts it as a new message
    And the answer to the create has an empty body or null

    Examples:
      | sender         | recipient      |
      | a practitioner | a patient      |
      | a patient      | a practitioner |

  @ID-3 @api @explored
  Scenario: Any valid create, in either direction and media type, answers 201 with an empty body or null (explored)
    Given the rule's input space as written down
    When cases drawn from it are sent to the target
    Then every case keeps the rule
