"""Input and output serializers, one module per resource over `base`.

`LayerDetailOutput` is named here because `annotations.workspace` imports it from
`api.serializers` (the annotate page renders a layer as the API does).
"""

from api.serializers.layers import LayerDetailOutput

__all__ = ["LayerDetailOutput"]
