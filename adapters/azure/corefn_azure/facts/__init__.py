"""Dated facts about this provider (services, limits, prices) as TOML data; read by corefn.facts."""
