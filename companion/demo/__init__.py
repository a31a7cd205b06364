"""Bundled demo data: a scripted, deterministic sample chat for the companion engine."""
