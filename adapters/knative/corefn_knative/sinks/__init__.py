"""The Knative adapter's sink backends (found by URL scheme through ``corefn.sinks``)."""
