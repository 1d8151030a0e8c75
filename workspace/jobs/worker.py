"""The RQ worker Switchboard runs: non-forking, inside one app context."""

from rq import SimpleWorker

from workspace.extensions import db


class AppWorker(SimpleWorker):
    """Runs jobs in this process, so the app and the classifier load once.

    RQ's default worker forks per job, which measured 4-50 trivial jobs/s here
    (0.4/s when each job loaded the model); this one does not fork.
    """

    def execute_job(self, job, queue):
        """Run one job, then drop the database session so the next one starts fresh."""
        try:
            return super().execute_job(job, queue)
        finally:
            db.session.remove()
