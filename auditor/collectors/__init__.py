"""Collectors: produce an inventory file from a provider's API, through the provider's own SDK.

Each provider module exposes `collect(...) -> (document, EndpointLog)`; the CLI writes the document
atomically. Every endpoint's outcome is recorded in the document's `collection` object, so a partial
collection is visible in the file and never passes as complete.
"""
