"""corefn adapter for gcp (under construction)."""
