"""The MLEx Tiled server: a real Tiled catalog with demo data, results and the data roots."""
