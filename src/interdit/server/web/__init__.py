"""interdit.server.web"""
