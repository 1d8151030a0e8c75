"""Each channel kind's reply limit, counted its own way (channels.registry)."""

from workspace.channels.registry import DEFAULT_REPLY_LIMIT, reply_fits, reply_length, reply_limit


def test_an_x_reply_must_fit_280_characters_counting_links_as_23():
    """X counts a link as 23 characters whatever its length; other channels allow long replies."""
    link = "https://status.example.com/incidents/" + "a" * 200
    assert reply_length(f"See {link}", "x") == 4 + 23
    assert reply_fits("y" * 280, "x") is None
    assert reply_fits("y" * 281, "x") == "the reply is 281 characters; a x reply must fit 280 (1 too many)"
    assert reply_fits("y" * 5000, "native") is None


def test_kinds_without_a_limit_of_their_own_take_the_workspace_maximum():
    """Only X sets a limit; every other kind (and an unknown one) gets the workspace's maximum."""
    assert reply_limit("x") == 280
    assert {reply_limit(kind) for kind in ("native", "discourse", "khoros", "twitter")} == {DEFAULT_REPLY_LIMIT}
