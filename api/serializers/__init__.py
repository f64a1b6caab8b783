"""Input and output serializers, one module per resource over `base`."""
