"""The suggestion ranker: learned macros first, cold start from a macro's words, past replies by similar posts,
one per distinct answer, and nothing at all for a post unlike anything seen."""

import subprocess
import sys

import suggestions
from suggestions.ranker import Ranker
from tests.factories import ROOT
from tests.purity import assert_imports_alone

MACROS = [(1, "Refund a double charge\nWe refunded the duplicate charge."),
          (2, "Password reset\nUse the reset link on the sign-in page."),
          (3, "Shipping delay\nYour parcel is delayed by the carrier; tracking updates daily.")]
APPLIED = [("charged twice, refund please", 1), ("refund the double charge", 1), ("billed me twice, refund", 1),
           ("forgot my password", 2), ("password reset link missing", 2), ("cannot log in, reset password", 2)]
REPLIES = [("charged twice, refund please", 10, "Refunded, sorry!"),
           ("billed me twice, refund", 11, "Refunded, sorry!"),
           ("forgot my password", 12, "Try the reset link.")]


def test_a_learned_macro_comes_first_with_its_evidence():
    """Posts like the ones agents answered with a macro get that macro first, learned."""
    first = Ranker().fit(MACROS, APPLIED).suggest_many(["I was charged twice, refund me"])[0].macros[0]
    assert (first.kind, first.ref, first.evidence) == ("macro", 1, "learned")
    assert 0 < first.confidence <= 1


def test_a_macro_nobody_applied_is_suggested_by_its_words():
    """Cold start: the shipping macro has never been applied, yet a post about a delayed parcel gets it."""
    found = Ranker().fit(MACROS, APPLIED).suggest_many(["my parcel is delayed, where is the tracking"])[0].macros
    assert [(c.ref, c.evidence) for c in found][:1] == [(3, "text")]


def test_past_replies_come_from_similar_posts_once_per_answer():
    """The same canned answer given twice is suggested once; the reply to an unrelated post is not."""
    replies = Ranker().fit(MACROS, APPLIED, REPLIES).suggest_many(["charged twice, refund please!"])[0].replies
    assert [c.ref for c in replies] == [10]
    assert replies[0].evidence == "similar_post" and replies[0].confidence >= 0.5


def test_an_unfamiliar_post_gets_nothing():
    """The ranker abstains on a post in words no handled post used, rather than guess."""
    assert Ranker().fit(MACROS, APPLIED, REPLIES).suggest_many(["banana bread recipe with walnuts"])[0] == \
        suggestions.Suggested()


def test_nothing_to_learn_from_suggests_nothing():
    """No macros, no history: empty suggestions, no error."""
    assert Ranker().fit([], [], []).suggest_many(["hello"]) == [suggestions.Suggested()]


def test_macro_rank_says_where_the_applied_macro_stands():
    """The gate's measure: the applied macro's place, or None when not suggested."""
    ranker = Ranker().fit(MACROS, APPLIED)
    assert ranker.macro_rank("refund the double charge please", 1) == 1
    assert ranker.macro_rank("banana bread recipe", 1) is None


def test_the_library_imports_without_flask_and_light():
    """suggestions is a library: no flask or workspace; scikit-learn loads only with suggestions.ranker."""
    assert_imports_alone(suggestions)
    code = "import sys, suggestions\nassert 'sklearn' not in sys.modules\n"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
