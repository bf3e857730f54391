"""Interoperability: labelled exports and imports in the field's formats (being built)."""
