"""Notifications: an outbox of emails and chat posts, delivered exactly once by a sender."""

from matcher.notify.queue import queue_message, queue_messages
from matcher.notify.sender import SendReport, send_pending

__all__ = ["SendReport", "queue_message", "queue_messages", "send_pending"]
