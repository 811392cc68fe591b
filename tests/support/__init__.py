"""Test helpers shared across the suite: swagger validation and image factories."""
