"""The job table's order: the jobs an urgent post's push waits on go ahead of the batches queued before them."""

from workspace.infra.broker import job_queue
from workspace.jobs.enqueue import enqueue, enqueue_many, route_job_id
from workspace.jobs.tasks import conversations, notifications


def test_notifications_and_pushes_are_queued_ahead_of_routing_and_suggestion_batches(app, redis):
    """With a routing and a suggestion batch waiting, a notify job goes before them, and each agent's push
    job before that: a worker busy with a burst takes a push next instead of after the burst's backlog."""
    with app.app_context():
        enqueue(conversations.route_conversations, [1, 2])
        enqueue(conversations.suggest_for_conversations, [1, 2])
        notify = enqueue(notifications.notify, "routed", [1, 2])
        enqueue_many(notifications.push_notifications, [(7,), (8,)])
        waiting = job_queue().job_ids
    assert sorted(waiting[:2]) == ["push-7", "push-8"]
    assert waiting[2:] == [notify.id, route_job_id([1, 2]), "suggest-" + route_job_id([1, 2])[6:]]
