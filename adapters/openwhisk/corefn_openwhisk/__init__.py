"""corefn adapter for openwhisk (under construction)."""
