"""Readers of the field's jet data formats, one module per format.

The public entry points are in :mod:`heplearn.data.readers`.
"""
