"""interdit.reporting"""
