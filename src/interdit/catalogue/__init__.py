"""interdit.catalogue"""
