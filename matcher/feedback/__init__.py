"""Feedback: did people meet, how was it, and what it changes for the next rounds."""
