"""Admin forms, one module per page group."""
