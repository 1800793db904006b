"""Relabelling FER2013 into FER2024: durable label store, project (queues, progress, agreement, export)."""
