"""Fly.io resources as Pulumi dynamic providers over the Machines REST API."""
