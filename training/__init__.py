"""Reproducible training / export / evaluation pipeline of the bundled cross-encoder."""
