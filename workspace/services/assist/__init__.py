"""Agent assist: macros and past replies suggested beside conversations, and what agents did with them.

`examples` reads what agents did (macros applied, replies written); `training`
(worker only: it loads scikit-learn) trains, gates and runs the ranker;
`suggestions` serves what the worker stored and records each outcome.
"""
