"""interdit.inventory"""
