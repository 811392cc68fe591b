"""Unit tests of the schemas package."""
