"""Blueprints: read the request, call the domain, render. No storage or rules here."""
