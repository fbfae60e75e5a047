"""Index: BM25 and dense channels, persisted as a folder of data plus manifest.json, and search over them."""
