"""Notifications: who is told what (triggers), the list each agent reads (records), and the pushes to their
devices (settings, on-call, subscriptions, web push).

Services never call this package by name: they ask through `live.signals` after their commit, the jobs
table turns each ask into a `notify` job, and the job calls `triggers`, which records the notifications,
emits them to each agent's room and asks for the push; pushing runs in its own job, never in a request.
"""
