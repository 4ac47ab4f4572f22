"""interdit.api"""
