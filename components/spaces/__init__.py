"""The Studio on Hugging Face Spaces: Pulumi dynamic providers over `huggingface_hub.HfApi`, one module per
resource kind.

Modules: catalog (flavors, stages, mount paths), settings (SpacesSettings), pricing (dated table, estimate),
errors (SpacesError), hub (endpoint, token, HfApi per call, retries), provider (what the providers share),
space (the repo, hardware, sleep time, privacy; the owner marker), bucket (songs; the owner id in its name),
variables, secrets, volumes (weights read-only at pinned commits, the bucket read-write), files (the build
context and README as one content-addressed commit), rollout (apply and wait until RUNNING), studio (deploy),
platform (the object the registry holds).

What marks a resource as this stack's: the Space's SONGGEN_OWNER variable, set in the request that creates it
(space.py); the bucket's name, which carries a digest of the owner id (bucket.py). Everything else lives inside
the Space and belongs to the stack through it.
"""
