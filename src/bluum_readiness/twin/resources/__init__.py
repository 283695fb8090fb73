"""The twin's HTTP resources, one module per group; each exports ``routes`` (paths relative to /v1)."""
