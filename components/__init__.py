"""Pulumi components that deploy SongGeneration Studio to Fly.io."""
