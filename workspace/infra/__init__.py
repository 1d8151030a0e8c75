"""Infrastructure below everything else: the Redis and RQ connections."""
