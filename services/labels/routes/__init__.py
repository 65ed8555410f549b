"""Routers of Splash ML, one module per resource."""
