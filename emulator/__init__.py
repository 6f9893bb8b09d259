"""A local stand-in for Fly.io's Machines API, for tests, benchmarks and the sandbox."""
