"""Notebook helpers: plots and dashboards (imported only by notebooks)."""
