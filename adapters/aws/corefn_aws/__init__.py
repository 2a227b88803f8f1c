"""corefn adapter for aws (under construction)."""
