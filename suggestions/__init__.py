"""Suggestions for agents: macros and past replies ranked for a post, abstaining when unsure (no Flask here).

Plain data in (macro texts, which macro agents applied to which post, past
replies and the posts they answered), plain data out (ranked Candidates).
scikit-learn loads on import of suggestions.ranker, never from here.
"""

from suggestions.candidate import Candidate, Suggested

__all__ = ["Candidate", "Suggested"]
