"""The private Redis of ./bin/run persists: a restart on the same folder keeps its data (the queue)."""

from redis import Redis

from devstack.localredis import start_redis


def test_a_persisting_redis_keeps_its_data_across_a_restart(tmp_path):
    """Written, stopped, started again on the same folder and port: the data is still there."""
    process, url = start_redis(str(tmp_path), persist=True)
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    try:
        client = Redis.from_url(url)
        client.rpush("rq:queue:default", "job-1")
        client.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
    process, again = start_redis(str(tmp_path), port, persist=True)
    try:
        client = Redis.from_url(again)
        assert again == url and client.lrange("rq:queue:default", 0, -1) == [b"job-1"]
        client.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
