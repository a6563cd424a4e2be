"""Fleets: many apps in one config, made by generators, split into shards (issue 15)."""
