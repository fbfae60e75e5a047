"""Ingest: read source files, clean PDF-extraction residue, cut Chinese-aware chunks."""
