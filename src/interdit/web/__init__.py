"""interdit.web"""
