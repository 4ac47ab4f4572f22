"""interdit.enforcement"""
