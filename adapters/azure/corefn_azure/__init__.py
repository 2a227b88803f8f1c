"""corefn adapter for azure (under construction)."""
