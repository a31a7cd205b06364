"""Affect models: shared MiniLM encoder, trained heads, TRM PAD refiner, mood tracker, lexicons."""
