"""Background jobs: one process per job, state on disk, a FIFO queue."""
