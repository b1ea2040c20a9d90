"""Thin ipywidgets front ends over virtbook's pure models."""
