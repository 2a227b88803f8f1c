"""Realistic gcp payloads, one per trigger kind this cloud has, for ``corefn event gcp TRIGGER``
(copied from the verified fixtures in tests/events/gcp/)."""
