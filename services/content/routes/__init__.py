"""Routers of MLExContent, one module per resource."""
