"""Corpus export formats: one module per format, registered by name in `catalog`.

Every writer reads the same `ExportDocument`s (built in `selection`, one per article that has the
selected layer) and yields `Chunk`s; `base.zip_stream` turns multi-file outputs into one byte
stream, so the management command and the API write exactly the same bytes.
"""
