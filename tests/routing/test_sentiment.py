"""Sentiment: VADER compound scores in [-1, 1], one analyzer, long texts bounded."""

from routing import Post, route_many
from routing import sentiment as sentiment_module
from routing.language import SUPPORTED
from routing.sentiment import MAX_CHARS, SCOPE_SYMBOLS, SCOPE_WORDS, scope, sentiment, sentiments


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


# "My order still has not arrived" in each supported language (English: with a word VADER knows).
LATE_ORDER = {
    "ar": "لم يصل طلبي بعد", "de": "Meine Bestellung ist immer noch nicht angekommen",
    "en": "My order still has not arrived, this is awful", "es": "Mi pedido todavía no ha llegado",
    "fr": "Ma commande n'est toujours pas arrivée", "hi": "मेरा ऑर्डर अभी तक नहीं पहुंचा है",
    "id": "Pesanan saya belum juga sampai", "it": "Il mio ordine non è ancora arrivato",
    "ja": "注文した商品がまだ届きません", "ko": "주문한 상품이 아직 도착하지 않았습니다",
    "nl": "Mijn bestelling is nog steeds niet aangekomen", "pl": "Moje zamówienie wciąż nie dotarło",
    "pt": "Meu pedido ainda não chegou", "ru": "Мой заказ до сих пор не пришёл",
    "sv": "Min beställning har fortfarande inte kommit", "tr": "Siparişim hâlâ gelmedi",
    "uk": "Моє замовлення досі не надійшло", "vi": "Đơn hàng của tôi vẫn chưa đến", "zh": "我的订单还没有到",
}


def test_a_post_in_each_supported_language_is_scored_from_what_its_language_allows():
    """English words are scored; in every other language words are neutral and emoticons still count."""
    assert set(LATE_ORDER) == set(SUPPORTED)
    for code, text in LATE_ORDER.items():
        words, angry = sentiment(text, code), sentiment(f"{text} :( 😠", code)
        if code == "en":
            assert words < -0.3 and scope(code) == SCOPE_WORDS
        else:
            assert words == 0.0 and scope(code) == SCOPE_SYMBOLS, code
        assert angry < -0.5, code
    assert sentiments(LATE_ORDER.values(), LATE_ORDER) == [sentiment(t, c) for c, t in LATE_ORDER.items()]


def test_english_valences_are_not_read_into_other_languages():
    """German "Gift" (poison) is not a present: without English, its words are not scored."""
    assert sentiment("Gift", "en") > 0 and sentiment("Gift", "de") == 0.0
    assert sentiment("Gift") == sentiment("Gift", "en")  # a language not known yet is scored as English


def test_the_routing_explanation_shows_the_language_and_what_the_sentiment_came_from():
    """A Spanish post routes with its language detected and its sentiment scored from its emoticons only."""
    spanish, english = route_many([Post(text=f"{LATE_ORDER['es']}, es una vergüenza :("),
                                   Post(text=LATE_ORDER["en"])], [], None, queues=[])
    assert spanish.explanation["language"] == "es" and spanish.explanation["sentiment_scope"] == SCOPE_SYMBOLS
    assert spanish.explanation["sentiment"] == sentiment(":(")
    assert english.explanation["language"] == "en" and english.explanation["sentiment_scope"] == SCOPE_WORDS
    assert english.explanation["sentiment"] < -0.3
