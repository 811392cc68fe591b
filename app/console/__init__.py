"""The web console: static pages served by the app at `/` (see README, "Console")."""
