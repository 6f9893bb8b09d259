"""What every platform's Pulumi dynamic providers share, whatever API they drive.

Modules: errors (one-message failures, shown without a Python traceback), api_error (a failed API call as one
paragraph: the resource, the call, the service's words, what to do; secrets scrubbed), retry (backoff bounded by
one call budget, honouring Retry-After), stack_config (the stack's config kept in the provider process, never on
a pickled provider), provider (the base of providers over a platform's API), compare (semantic equality, values
not known yet in preview), diff (diffs that name their changed keys; `gone` for a deleted resource), adopt
(adopt before create, after a lost answer), host (what the provider process does for itself: drop tracebacks
from our errors, exit when the engine is gone), progress (lines a person watching `pulumi up` sees), ownership
(the marker that says which stack made a resource), data_guard (no routine edit loses stored data unsaid).
"""
