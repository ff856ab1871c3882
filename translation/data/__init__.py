"""Data: robust image I/O, data sets and transforms, preparation tools, downloads."""
