"""interdit.analysis"""
