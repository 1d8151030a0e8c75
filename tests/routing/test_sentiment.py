"""Sentiment: VADER compound scores in [-1, 1], one analyzer, long texts bounded."""

from routing import sentiment as sentiment_module
from routing.sentiment import MAX_CHARS, sentiment, sentiments


def test_polarity_follows_the_text():
    """Angry text scores negative, praise positive, a plain question zero."""
    assert sentiment("This is terrible, worst service ever, I hate it") < -0.5
    assert sentiment("Thank you so much, this is great!") > 0.5
    assert sentiment("How do I change my address?") == 0.0
    assert sentiment("") == 0.0


def test_batch_matches_single_calls():
    """sentiments() gives the same scores as sentiment() one by one, in order."""
    texts = ["great", "awful", "", "ok then"]
    assert sentiments(texts) == [sentiment(t) for t in texts]
    assert all(-1.0 <= s <= 1.0 for s in sentiments(texts))


def test_only_the_opening_of_a_long_text_is_scored():
    """A huge text is scored on its first MAX_CHARS characters."""
    opening = "I love it. " * (MAX_CHARS // 11)
    assert sentiment(opening + "terrible " * 10_000) == sentiment(opening[:MAX_CHARS])


def test_the_analyzer_is_created_once():
    """The module keeps one analyzer for every call."""
    first = sentiment_module._analyzer
    sentiment("some text")
    assert sentiment_module._analyzer is first
