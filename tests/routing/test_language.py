"""Language detection (lingua, offline): a short post in each supported language, and language rules."""

import pytest

from routing import Post, RuleError, compile_rules, route_many
from routing.language import SUPPORTED, detect, detect_many

# One short customer post per supported language: what a support community writes.
POSTS = {
    "ar": "لم أستلم المبلغ في حسابي حتى الآن، أرجو المساعدة",
    "de": "Meine Zahlung ist noch nicht angekommen, bitte helfen Sie mir",
    "en": "My payment has not arrived yet, please help me",
    "es": "Mi pago todavía no ha llegado, por favor ayúdenme",
    "fr": "Mon paiement n'est toujours pas arrivé, aidez-moi s'il vous plaît",
    "hi": "मेरा भुगतान अभी तक नहीं आया है, कृपया मेरी मदद करें",
    "id": "Pembayaran saya belum masuk juga, tolong bantu saya",
    "it": "Il mio pagamento non è ancora arrivato, per favore aiutatemi",
    "ja": "支払いがまだ届いていません。助けてください。",
    "ko": "결제가 아직 도착하지 않았습니다. 도와주세요.",
    "nl": "Mijn betaling is nog steeds niet aangekomen, help me alstublieft",
    "pl": "Moja płatność jeszcze nie dotarła, proszę o pomoc",
    "pt": "Meu pagamento ainda não chegou, por favor me ajudem",
    "ru": "Мой платёж до сих пор не пришёл, помогите пожалуйста",
    "sv": "Min betalning har fortfarande inte kommit fram, snälla hjälp mig",
    "tr": "Ödemem hâlâ hesabıma geçmedi, lütfen yardım edin",
    "uk": "Мій платіж досі не надійшов, допоможіть будь ласка",
    "vi": "Khoản thanh toán của tôi vẫn chưa đến, xin hãy giúp tôi",
    "zh": "我的付款还没有到账，请帮帮我",
}


def test_every_supported_language_has_a_post_here():
    """The table above covers exactly the supported languages, so none goes untested."""
    assert set(POSTS) == set(SUPPORTED)


@pytest.mark.parametrize("code", sorted(POSTS))
def test_a_short_post_is_detected_in_its_language(code):
    """Each supported language is told apart from the 18 others on one short post."""
    assert detect(POSTS[code]) == code


def test_a_batch_gives_the_same_answers_and_text_without_letters_has_none():
    """detect_many answers as detect() does, in order; digits and emoji alone have no language."""
    codes = sorted(POSTS)
    assert detect_many([POSTS[c] for c in codes] + ["12345 !!!", ""]) == [*codes, "", ""]
    assert detect("👍👍 123") == ""


def test_language_rules_route_per_language_queues_and_the_decision_carries_the_language():
    """A language condition sends Spanish and Portuguese posts to their queue; a known language is not re-detected."""
    compiled = compile_rules([
        {"id": 1, "name": "iberian", "conditions": {"language": ["es", "PT"]}, "actions": {"queue": "latam"}},
        {"id": 2, "name": "german", "conditions": {"language": "de"}, "actions": {"queue": "dach"}},
    ])
    posts = [Post(text=POSTS["es"]), Post(text=POSTS["pt"]), Post(text=POSTS["de"]), Post(text=POSTS["en"]),
             # The stored language wins over what the text looks like.
             Post(text=POSTS["en"], language="de")]
    decisions = route_many(posts, compiled, queues=frozenset({"latam", "dach", "triage"}))
    assert [d.queue for d in decisions] == ["latam", "latam", "dach", "triage", "dach"]
    assert [d.language for d in decisions] == ["es", "pt", "de", "en", "de"]
    assert decisions[0].explanation["language"] == "es"


@pytest.mark.parametrize("value", ["xx", ["en", "klingon"], [], 3])
def test_unknown_or_malformed_languages_are_refused(value):
    """A rule naming a language that is not supported (or not a code at all) does not compile."""
    with pytest.raises(RuleError):
        compile_rules([{"id": 1, "name": "r", "conditions": {"language": value}, "actions": {"tags": ["x"]}}])
