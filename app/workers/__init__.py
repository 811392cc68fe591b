"""Background jobs started with the application."""
