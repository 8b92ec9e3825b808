"""Readers and writers, one module per format. No Qt here."""
