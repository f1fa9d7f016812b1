"""Validation: the model's results held against independent references and variants."""
