"""Running the project's stacks under the real Pulumi engine: the sandbox, end-to-end tests, benchmarks."""
