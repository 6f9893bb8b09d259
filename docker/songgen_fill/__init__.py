"""The volume fill on huggingface_hub, run by the entrypoint as ``python -m songgen_fill``.

It runs on an environment of its own (``SONGGEN_FILL_PYTHON``, ``/opt/fill-venv`` in the image) with a
current ``huggingface_hub``, because the Studio's pinned set holds an old one that must not move. The
entrypoint hands it a job (``songgen_boot.filljob``) for the repos whose manifests are not complete;
it plans each repo, checks the room once, then fetches what is missing over ``SONGGEN_FILL_STREAMS``
parallel connections, verifies every file and records it in the repo's manifest. From the library it
uses the Hub API client (commits, paged tree listings, errors), the file metadata request that finds
an LFS file on the Hub's CDN, and ``http_get``, its download loop (ranges, retries, resuming a
dropped connection). What it adds is what the library does not do: resuming across restarts (the
library deletes a partial download when its process ends), several connections for one large file,
hashing while downloading, and stopping cleanly on a signal.

Modules, lowest first (each also uses songgen_boot's standard-library modules)::

    remote     the Hub through huggingface_hub: commit, listing, where a file's bytes come from, errors
    partial    an unfinished file: sparse data, the ranges written, the hash of its prefix
    transfer   ranges of many files over parallel connections, split while they run; one range per http_get
    plan       what a repo still needs, what the volume already holds, the room for the rest
    fill       the whole fill: plan, check, transfer, verify, record; checkpoints and stop
    __main__   the process: job in, log and result out, signals
"""
