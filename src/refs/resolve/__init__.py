"""Identifiers → raw records: the only place that talks to the metadata services."""
