"""interdit.network"""
