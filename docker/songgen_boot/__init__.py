"""The SongGeneration Studio image's entrypoint, run as ``python -m songgen_boot``.

What it does, in order, on every boot:

1. Reads its configuration from the environment (below) and fails at once, naming every bad variable.
2. If started as root, hands the volume to the unprivileged runtime user and drops to it.
3. Lays out the volume (``SONGGEN_DATA_DIR``, ``/data`` on Fly) and links it into the app directory
   where the Studio expects its files, so nothing a user makes lives on the machine's ephemeral disk::

       /data/runtime/{ckpt,third_party}   <- lglg666/SongGeneration-Runtime   app/ckpt, app/third_party
       /data/models/<model_id>/           <- lglg666/SongGeneration-<name>    app/<model_id>
       /data/output/  /data/uploads/                                          app/output, app/uploads
       /data/queue.json  /data/verified_models.json  /data/timing_history.json  (same names in app/)
       /data/cache/                       HF_HOME, TORCH_HOME, XDG_CACHE_HOME, PYTHONPYCACHEPREFIX
       /data/.songgen/manifests/          what this entrypoint downloaded and verified

4. Fills what is missing from Hugging Face: the runtime bundle and the models in ``SONGGEN_MODELS``.
   Downloads resume (HTTP Range) after a broken connection or a restart, every file is verified
   (sha256 from the tree API's LFS info, the git blob id for small files) before it is moved into
   place, and progress (bytes, percent, rate) goes to stdout. Free space is checked before the first
   byte is fetched. A complete cache is recognised from the local manifests without any network access.
5. Starts the Studio (``python main.py --host 0.0.0.0 --port $PORT`` in the app directory), forwards
   SIGTERM/SIGINT/SIGHUP to it and exits with its exit code.
6. Scale to zero without losing work: with ``SONGGEN_IDLE_STOP_MINUTES`` > 0 it watches the Studio's
   API and its access log. Once nothing has been generating, queued or downloading and no request has
   come in for that long, it stops the Studio and exits 0, so Fly stops the machine (the machine's
   restart policy must be ``on-failure`` or ``no``); Fly's proxy autostart brings it back on the next
   request. It never stops while a song is generating or waiting in the queue.

Why this self-stop and not Fly's proxy autostop (the default for a stack: self-stop on, proxy autostop
off): the proxy only sees HTTP traffic. A song takes minutes; the user closes the tab, the proxy sees
no more requests and stops the machine in the middle of the song, and anything still in the queue never
runs. The entrypoint asks the Studio itself whether work is running or waiting, so it only stops a
machine that is truly idle. Proxy autostop stays available for stacks that disable the self-stop.

Environment (all optional):

==============================  ==========================  =================================================
variable                        default                     meaning
==============================  ==========================  =================================================
SONGGEN_DATA_DIR                /data                       mount point of the persistent volume
SONGGEN_APP_DIR                 /opt/songgen/app            the Studio's app directory in the image
SONGGEN_MODELS                  base                        models to keep on the volume, comma separated:
                                                            base, base-new, base-full, large (or their ids
                                                            songgeneration_base, ...); "none" for none
SONGGEN_IDLE_STOP_MINUTES       15                          self-stop after this long idle; 0 turns it off
                                                            (fractions allowed)
PORT                            7860                        port the Studio listens on
HF_TOKEN                        (unset)                     Hugging Face token, sent only to HF_ENDPOINT;
                                                            never printed
HF_ENDPOINT                     https://huggingface.co      Hugging Face endpoint (mirror)
SONGGEN_HF_REVISION             main                        revision (branch, tag or commit) of every repo
SONGGEN_RUNTIME_REPO            lglg666/SongGeneration-Runtime  repo of the runtime bundle
SONGGEN_DOWNLOAD                1                           0: start with what the volume holds, no fetching
SONGGEN_VERIFY                  size                        warm-boot check of cached files: size (stat
                                                            only) or full (re-hash everything)
SONGGEN_FREE_SPACE_MARGIN_GB    2                           space kept free for songs and uploads
SONGGEN_ASSUME_FREE_BYTES       (unset)                     pretend the volume has this many bytes free
                                                            (tests, dry runs)
SONGGEN_IDLE_POLL_SECONDS       30                          how often the Studio API is asked
SONGGEN_IDLE_IGNORE_PATHS       /api/health                 request paths that are not user activity
                                                            (Fly's health checks)
SONGGEN_STOP_GRACE_SECONDS      20                          wait after SIGTERM before SIGKILL; keep it below
                                                            the machine's stop_config timeout
SONGGEN_HOST                    0.0.0.0                     address the Studio binds
SONGGEN_RUN_AS                  songgen                     user to drop to when started as root; empty:
                                                            stay as started
SONGGEN_PYTHON                  this interpreter            Python that runs the Studio
SONGGEN_DOWNLOAD_RETRIES        8                           attempts per file (each resumes)
SONGGEN_RETRY_BASE_SECONDS      2                           first back-off between attempts (doubles, <=60)
SONGGEN_HTTP_TIMEOUT_SECONDS    60                          socket timeout of one HTTP read
SONGGEN_PROGRESS_SECONDS        10                          interval of download progress lines
SONGGEN_OVERLAY_DIR             /opt/songgen/overlay        patched files laid over the runtime bundle
==============================  ==========================  =================================================

Only the standard library is used so the package runs on whichever Python the image has (3.10+).

Modules, lowest first; each imports only modules listed before it::

    console     log lines on stdout, byte counts
    errors      the failures that end a boot, each mapped to an exit code by __main__
    config      Settings read from the environment, the model table
    hub         the Hugging Face client: revisions, tree listings, file downloads
    checksums   verifying a file against its size, sha256 or git blob id
    manifest    what is on the volume and verified, per repo
    progress    download progress lines
    fill        the resumable, verified fill of the volume
    layout      the volume's layout, linked into the app directory; the Studio's state files
    overlays    the Studio's patched files laid over the runtime bundle
    privileges  handing the volume to the runtime user and dropping root
    idle_stop   deciding when the Studio is idle
    supervisor  running the Studio, forwarding signals, the exit code
    __main__    the boot sequence
"""
