"""Marshmallow schemas of the Image Service wire format: storage.Image, requests, responses."""
