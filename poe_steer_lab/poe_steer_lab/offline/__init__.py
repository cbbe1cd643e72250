"""Offline dataset generation, training and export of frozen actors."""
