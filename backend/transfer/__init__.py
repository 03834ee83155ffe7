"""Measured transfer scores: CSV input (validated, line-numbered errors) and task features."""
