"""interdit.cli"""
