"""API views, one module per resource over `base` (urls.py imports each view from its module)."""
