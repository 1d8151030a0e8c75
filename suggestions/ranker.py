"""Rank macros, past replies and help articles for a post: learned from what agents applied, text similarity cold.

Macros: a calibrated linear model (routing's classifier pipeline) learns which
macro agents applied to which posts; its probability is the confidence. A
macro nobody has applied yet (too few examples to learn) is ranked by the
cosine similarity of the post to the macro's own words, the cold start.
Past replies: the agents' replies whose inbound posts are nearest the post
(TF-IDF cosine), one per distinct reply text. Anything under its threshold is
left out, so a post unlike anything seen gets nothing: the ranker abstains.
Help articles: the cosine similarity of the post to each article's words.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from routing.classifier import MIN_EXAMPLES, build_pipeline
from suggestions.candidate import Candidate, Suggested

TOP = 3
# Learned macros are suggested only when the best one reaches this probability and the post is familiar
# (FAMILIAR); the others beside it from COMPANION_THRESHOLD up. Measured on Banking77 (bench/assist.py):
# the right macro stays first or in the top three for in-scope posts, most out-of-scope posts get nothing.
MACRO_THRESHOLD = 0.15
COMPANION_THRESHOLD = 0.001
# Share of a post's words that must have been seen in posts agents applied macros to: a post mostly in
# words never seen there is not the learned model's to judge, however it spreads its probability (a macro
# nobody applied yet may still match it by its own words). Chosen on Banking77 and CLINC150's out-of-scope
# posts (bench/assist.py): 0.75 let half of CLINC150's through; 0.8 stops 65% of them for 0.2 points of top
# three, 0.85 stops 77% but drops the top three under 97%.
FAMILIAR = 0.8
# A macro's own words must match the post at least this well (cosine) to be suggested cold.
TEXT_THRESHOLD = 0.25
# A past reply is suggested when the post it answered is at least this close (cosine).
REPLY_THRESHOLD = 0.5
# A help article is suggested when its title and body match the post at least this well (cosine).
ARTICLE_THRESHOLD = 0.2


def _vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, strip_accents="unicode", lowercase=True)


class Ranker:
    """Suggests macros and past replies for posts; fit once on what agents did, then ask many times.

    Args:
        top: most suggestions of each kind.
        macro_threshold: least probability of the best learned macro (the others need COMPANION_THRESHOLD).
        text_threshold: least cosine of a cold-start macro.
        reply_threshold: least cosine between the post and the post a past reply answered.
        seed: seed of the learned model, so the same data gives the same ranking.
    """

    def __init__(self, *, top: int = TOP, macro_threshold: float = MACRO_THRESHOLD,
                 text_threshold: float = TEXT_THRESHOLD, reply_threshold: float = REPLY_THRESHOLD,
                 seed: int = 0) -> None:
        self.top = top
        self.macro_threshold = macro_threshold
        self.companion_threshold = min(COMPANION_THRESHOLD, macro_threshold)
        self.text_threshold = text_threshold
        self.reply_threshold = reply_threshold
        self.seed = seed

    def fit(self, macros: Sequence[tuple[int, str]], applied: Sequence[tuple[str, int]],
            replies: Sequence[tuple[str, int, str]] = (), articles: Sequence[tuple[int, str]] = ()) -> Ranker:
        """Learn from the macros' words, the macros agents applied and the replies they wrote.

        Args:
            macros: (macro id, its name, description and template as one text) for every usable macro.
            applied: (post text, macro id) for each time an agent applied a macro to a post.
            replies: (post text, reply id, reply text) for each agent reply and the post it answered.
            articles: (article id, its title, tags and body as one text) for every published help article.

        Returns:
            self.
        """
        known = {macro_id for macro_id, _ in macros}
        applied = [(text, macro_id) for text, macro_id in applied if macro_id in known and text.strip()]
        counts = Counter(macro_id for _, macro_id in applied)
        learnable = {macro_id for macro_id, n in counts.items() if n >= MIN_EXAMPLES}
        self.learned_ = None
        if len(learnable) >= 2:
            rows = [(text, str(macro_id)) for text, macro_id in applied if macro_id in learnable]
            self.learned_ = build_pipeline(clf__random_state=self.seed).fit(*zip(*rows, strict=True))
            self.learned_ids_ = np.array([int(label) for label in self.learned_.classes_])
        cold = [(macro_id, text) for macro_id, text in macros if macro_id not in learnable and text.strip()]
        self.cold_ids_ = np.array([macro_id for macro_id, _ in cold], dtype=np.int64)
        try:
            self.words_ = _vectorizer().fit([text for _, text in cold] + [text for text, _ in applied]
                                            + [post for post, _, _ in replies] + [text for _, text in articles])
        except ValueError:  # no words at all (nothing to learn from yet): suggest nothing
            self.words_ = None
            return self
        self.analyze_ = self.words_.build_analyzer()
        # The words of the posts the learned model saw: a post mostly outside them is not its to judge.
        self.learned_words_ = {term for text, _ in applied for term in self.analyze_(text) if " " not in term}
        self.cold_matrix_ = self.words_.transform([text for _, text in cold]) if cold else None
        self._fit_replies(replies)
        articles = [(article_id, text) for article_id, text in articles if text.strip()]
        self.article_ids_ = np.array([article_id for article_id, _ in articles], dtype=np.int64)
        self.article_matrix_ = self.words_.transform([text for _, text in articles]) if articles else None
        return self

    def _fit_replies(self, replies: Sequence[tuple[str, int, str]]) -> None:
        # One row per distinct reply text: the same canned answer given 500 times is one suggestion.
        best: dict[str, tuple[str, int]] = {}
        for post, reply_id, reply in replies:
            if post.strip() and reply.strip():
                best.setdefault(reply.strip(), (post, reply_id))
        self.reply_ids_ = np.array([reply_id for _, reply_id in best.values()], dtype=np.int64)
        # Posts by word (the transpose): a query touches only the rows of its own words.
        self.reply_columns_ = self.words_.transform([post for post, _ in best.values()]).T.tocsr() if best else None

    def suggest_many(self, texts: Sequence[str]) -> list[Suggested]:
        """Suggest macros and past replies for each post, best first, none under its threshold.

        Args:
            texts: the posts (subject and text as one string).

        Returns:
            One Suggested per post, in order.
        """
        texts = list(texts)
        if not texts or self.words_ is None:
            return [Suggested() for _ in texts]
        queries = self.words_.transform(texts)
        learned = self.learned_.predict_proba(texts) if self.learned_ is not None else None
        cold = (queries @ self.cold_matrix_.T).toarray() if self.cold_matrix_ is not None else None
        articles = (queries @ self.article_matrix_.T).toarray() if self.article_matrix_ is not None else None
        return [Suggested(self._macros(i, learned if self._familiar(texts[i]) else None, cold),
                          self._replies(queries[i]), self._articles(i, articles)) for i in range(len(texts))]

    def _articles(self, row: int, scores) -> list[Candidate]:
        if scores is None:
            return []
        return [Candidate("article", int(self.article_ids_[j]), float(scores[row, j]), "text")
                for j in np.argsort(-scores[row], kind="stable")[:self.top] if scores[row, j] >= ARTICLE_THRESHOLD]

    def _familiar(self, text: str) -> bool:
        words = [term for term in self.analyze_(text) if " " not in term]
        return bool(words) and sum(term in self.learned_words_ for term in words) >= FAMILIAR * len(words)

    def _macros(self, row: int, learned, cold) -> list[Candidate]:
        found = []
        if learned is not None and learned[row].max() >= self.macro_threshold:
            found += [Candidate("macro", int(self.learned_ids_[j]), float(learned[row, j]), "learned")
                      for j in np.argsort(-learned[row], kind="stable")[:self.top]
                      if learned[row, j] >= self.companion_threshold]
        if cold is not None:
            found += [Candidate("macro", int(self.cold_ids_[j]), float(cold[row, j]), "text")
                      for j in np.argsort(-cold[row], kind="stable")[:self.top]
                      if cold[row, j] >= self.text_threshold]
        return sorted(found, key=lambda c: (-c.confidence, c.ref))[:self.top]

    def _replies(self, query) -> list[Candidate]:
        if not self.reply_ids_.size or not query.nnz:
            return []
        # Sum of the query's words' columns, weighted: the cosine of every past post in one sparse product.
        scores = (self.reply_columns_[query.indices].T @ query.data)
        if not np.any(scores >= self.reply_threshold):
            return []
        top = np.argpartition(-scores, min(self.top, scores.size - 1))[:self.top]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [Candidate("reply", int(self.reply_ids_[j]), float(scores[j]), "similar_post")
                for j in top if scores[j] >= self.reply_threshold]

    def macro_rank(self, text: str, macro_id: int) -> int | None:
        """Where the ranker puts a macro for a post (1 = first), or None when it is not suggested."""
        for place, candidate in enumerate(self.suggest_many([text])[0].macros, 1):
            if candidate.ref == macro_id:
                return place
        return None
