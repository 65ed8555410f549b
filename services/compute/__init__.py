"""MLExCompute: jobs and workflows run on Celery workers (port 8002, ``/api/v0``)."""
