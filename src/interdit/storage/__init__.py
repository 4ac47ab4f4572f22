"""interdit.storage"""
