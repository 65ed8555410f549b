"""MLEx workers: the Celery app and the task that runs one job in a child process or container."""
