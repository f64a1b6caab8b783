"""Import readers: one module per input format, picked by file suffix in `catalog`.

A reader turns one file into stored-ready inputs or raises `ImportFailed` with every problem it
found, each naming the file (and line). Readers never write; `annotations.importing` does.
"""
