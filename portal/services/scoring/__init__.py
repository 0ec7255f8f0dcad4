"""Scoring: rounds, self-assessments, verification and explanation, peer reviews and their assignment, evidence
files, offline Excel.
"""
