"""The suite's webhook sender, as the receiver checks use it."""

from __future__ import annotations

import httpx

from bluum_readiness.webhooks.sender import WebhookSender


def _sender(answers: list[Exception | int]) -> tuple[WebhookSender, list[httpx.Request]]:
    sent: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return httpx.Response(answer)

    sender = WebhookSender("https://receiver.example/webhooks", lambda: "whsec_test")
    sender._client = httpx.Client(transport=httpx.MockTransport(handle))
    return sender, sent


def test_a_connection_that_could_not_be_opened_is_tried_once_more_as_bluum_retries_a_delivery() -> None:
    """Nothing was sent: a loaded machine's failed connect is not the receiver's answer (the reference once failed
    duplicates-idempotent on one of five simultaneous connects). A second failure is what the delivery records."""
    sender, sent = _sender([httpx.ConnectError("refused"), 204])
    attempt = sender.send(sender.delivery(label="concurrent-duplicate"))
    assert (attempt.status, attempt.error) == (204, None) and len(sent) == 2
    assert sent[0].content == sent[1].content and sent[0].headers["webhook-id"] == sent[1].headers["webhook-id"]

    sender, sent = _sender([httpx.ConnectError("refused"), httpx.ConnectError("refused")])
    attempt = sender.send(sender.delivery())
    assert (attempt.status, attempt.error) == (None, "ConnectError") and len(sent) == 2


def test_an_answer_that_did_not_come_is_recorded_at_once() -> None:
    """A request that was sent (the receiver may have acted on it) is never sent again by the sender."""
    sender, sent = _sender([httpx.ReadTimeout("no answer"), 204])
    attempt = sender.send(sender.delivery())
    assert (attempt.status, attempt.error) == (None, "ReadTimeout") and len(sent) == 1
