"""Closed-form Product-of-Experts steering of a frozen robot policy."""
