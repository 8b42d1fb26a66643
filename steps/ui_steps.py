"""Steps for the UI rules (UI-1..UI-5): what a person checks in Canvas's web pages.

The scenario has already created its message through the API, so the steps can name
the real ids. For now every target gets the same answer: the scenario is reported as
``manual`` with numbered steps for a person to follow. Browser checks against the
mock's own pages are meant to be added here, one step at a time.
"""
from __future__ import annotations

from typing import NoReturn

import pytest
from pytest_bdd import then

from .bodies import Draft, first_text
from .target import Target


def by_hand(*steps: str) -> NoReturn:
    """End the scenario as ``manual``, with the steps a person follows."""
    pytest.skip("MANUAL: " + " ".join(f"{n}. {step}" for n, step in enumerate(steps, 1)))


def who(target: Target, reference: str) -> str:
    """A person as someone at Canvas's screens would look for them: name and reference."""
    kind, _, ident = reference.partition("/")
    answer = target.client.request(f"look up the name of {reference} for the manual steps", "GET", reference)
    name = None
    if answer.status == 200:
        try:
            names = answer.json().get("name") or [{}]
            name = names[0].get("text") or " ".join([*names[0].get("given", []), names[0].get("family", "")]).strip()
        except (ValueError, AttributeError, TypeError, IndexError):
            name = None
    return f"{name} ({kind}/{ident})" if name else f"{kind}/{ident}"


def _patient(draft: Draft) -> str:
    return next(r for r in draft.involved if r.startswith("Patient/"))


@then("the message shows on the patient's chart timeline at its created date")
def on_the_timeline(target: Target, draft: Draft, created: str) -> None:
    by_hand(f"Sign in to Canvas and open the chart of the patient {who(target, _patient(draft))}.",
            f"Find on the chart timeline the message {created} (Communication/{created}), text "
            f"{first_text(draft.message)!r}.",
            "Check it is placed at the date and time it was created (today, when this run made it), "
            "among the chart's other entries in date order.")


@then("the chart shows it as a draft by Canvas Bot that the patient app does not show")
def a_hidden_draft(target: Target, draft: Draft, created: str) -> None:
    by_hand(f"Sign in to Canvas and open the chart of the patient {who(target, _patient(draft))}.",
            f"Find the message {created} (text {first_text(draft.message)!r}) on the chart timeline.",
            f"Check it is shown as a draft captioned 'Drafted <time since> on <date> by Canvas Bot', where the "
            f"date is its sent time {draft.message.get('sent')} (e.g. 'Drafted 4 months ago on Feb 10th, 2022 by "
            "Canvas Bot').",
            "Sign in to the patient app as that patient and check the message is NOT shown there.")


@then("sending the draft from the chart sends no SMS and keeps its sent time")
def sent_from_the_chart(target: Target, draft: Draft, created: str) -> None:
    by_hand(f"Sign in to Canvas and open the chart of the patient {who(target, _patient(draft))}.",
            f"Find the draft message {created} (text {first_text(draft.message)!r}) and send it from the chart.",
            "Check the patient received no text message (SMS) for it.",
            f"Read Communication/{created} through the API and check its sent time is still "
            f"{draft.message.get('sent')}.",
            f"Sign in to the patient app as that patient and check the message is shown, dated "
            f"{draft.message.get('sent')} (when it was drafted), not the time it was sent from the chart.")


@then("the chart shows it with its sent date and recipient, not as a draft, and the patient app shows it")
def a_patient_message(target: Target, draft: Draft, created: str) -> None:
    recipient = draft.message["recipient"][0]["reference"]
    by_hand(f"Sign in to Canvas and open the chart of the patient {who(target, _patient(draft))}.",
            f"Find the message {created} (text {first_text(draft.message)!r}) on the chart timeline.",
            f"Check it is not a draft, and shows its sent date {draft.message.get('sent')} and its recipient "
            f"{who(target, recipient)}.",
            "Sign in to the patient app as that patient and check the message is already shown in messaging.")


@then("the UI shows the first payload text as the message content")
def first_text_shown(target: Target, draft: Draft, created: str) -> None:
    texts = [p.get("contentString", p.get("content")) for p in draft.message["payload"]]
    by_hand(f"Sign in to Canvas and open the chart of the patient {who(target, _patient(draft))}.",
            f"Find the message {created} on the chart timeline.",
            f"Check its content reads {texts[0]!r} and that {texts[1]!r} (the second payload element) "
            "appears nowhere.")
