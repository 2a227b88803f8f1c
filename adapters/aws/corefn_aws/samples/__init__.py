"""Realistic AWS payloads, one per trigger kind, for ``corefn event aws TRIGGER`` and for tests
that want a starting point to edit: ``adapter.sample("queue")`` is an SQS batch as Lambda
delivers it.

``timer`` is the EventBridge Scheduler envelope corefn's generated schedules send; ``invoke`` is
what a direct ``lambda invoke`` passes (any JSON).
"""
