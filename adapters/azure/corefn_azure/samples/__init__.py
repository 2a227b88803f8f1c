"""Realistic azure payloads, one per trigger kind this cloud has, for ``corefn event azure TRIGGER``
(copied from the verified fixtures in tests/events/azure/)."""
