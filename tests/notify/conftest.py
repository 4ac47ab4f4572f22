"""The receivers the notices tests send to (a real SMTP server, a real webhook receiver): notify_receivers."""

from notify_receivers import smtp_server, webhook_receiver

__all__ = ["smtp_server", "webhook_receiver"]
