"""Load and failure scenarios against a real gunicorn on PostgreSQL (see bench/README.md)."""
