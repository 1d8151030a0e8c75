"""Extractive summaries: the problem from the first post, what was tried, the last message; always the same."""

from suggestions.summary import as_text, summarize

THREAD = [
    ("inbound", "Hello there. I was charged twice for order 1234 and the refund never arrived. Please help."),
    ("outbound", "Sorry about that! I checked the payment and refunded the duplicate today."),
    ("inbound", "Thanks. I already looked at my bank app and it still shows two payments."),
    ("note", "Escalating to billing: the refund did not go through."),
]


def test_a_thread_gives_problem_tried_and_last_the_same_every_time():
    """The first sentence and the troubled one make the problem; attempts come in order; the last message ends."""
    summary = summarize(THREAD)
    assert summary.problem == "Hello there. I was charged twice for order 1234 and the refund never arrived."
    assert summary.tried == [
        "Agent: I checked the payment and refunded the duplicate today.",
        "Customer: I already looked at my bank app and it still shows two payments.",
        "Note: Escalating to billing: the refund did not go through."]
    assert summary.last == "Note: Escalating to billing: the refund did not go through."
    assert summarize(THREAD) == summary
    assert as_text(summary).splitlines()[0].startswith("Problem: Hello there.")


def test_no_customer_post_no_summary():
    """A thread of notes only has no problem to state."""
    assert summarize([("note", "internal")]) is None and summarize([]) is None
