"""Dated provider facts for Knative and IBM Code Engine (read by :mod:`corefn.facts`)."""
