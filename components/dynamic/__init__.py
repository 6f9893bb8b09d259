"""What every platform's Pulumi dynamic providers share, whatever API they drive.

Modules: errors (one-message failures, shown without a Python traceback), host (what the provider process
does for itself: drop tracebacks from our errors, exit when the engine is gone), progress (lines a person
watching `pulumi up` sees), ownership (the marker that says which stack made a resource).
"""
