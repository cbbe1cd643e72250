"""The goal-grid benchmark: which goals each steering configuration reaches."""
