"""MLExCompute routers, one module per resource."""
