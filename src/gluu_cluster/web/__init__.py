"""The health service: /health, /nodes/NAME/health, /metrics and a status page."""
