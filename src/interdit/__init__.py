"""interdit: run a prohibited-apps program on a device fleet, end to end."""

__version__ = "0.1.0"
