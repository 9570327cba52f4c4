"""Insights (docs/insights.md): breakdowns, funnels and retention, answered from the insight
days and users' first times that the report run stores, never from the raw events but for a
funnel whose days lack their timelines.
"""
