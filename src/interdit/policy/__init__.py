"""interdit.policy"""
