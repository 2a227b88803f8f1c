"""Realistic openwhisk payloads, one per trigger kind this cloud has, for ``corefn event openwhisk TRIGGER``
(copied from the verified fixtures in tests/events/openwhisk/)."""
