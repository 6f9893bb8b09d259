"""The SongGeneration Studio image's entrypoint, run as ``python -m songgen_boot``.

What it does, in order, on every boot:

1. Reads its configuration from the environment (below) and fails at once, naming every bad variable.
   On Kubernetes it also finds its namespace and service-account credentials now, not when idle.
2. If started as root, hands the writable dirs to the unprivileged runtime user and drops to it.
   Started as anyone else (Spaces runs images as uid 1000) it needs no root and changes no owner.
3. Lays out the data dir (``SONGGEN_DATA_DIR``, ``/data``) and links it into the app directory
   where the Studio expects its files, so nothing a user makes lives on the machine's ephemeral disk::

       /data/runtime/{ckpt,third_party}   <- lglg666/SongGeneration-Runtime   app/ckpt, app/third_party
       /data/models/<model_id>/           <- lglg666/SongGeneration-<name>    app/<model_id>
       /data/output/  /data/uploads/                                          app/output, app/uploads
       /data/queue.json  /data/verified_models.json  /data/timing_history.json  (same names in app/)
       /data/cache/                       HF_HOME, TORCH_HOME, XDG_CACHE_HOME, PYTHONPYCACHEPREFIX
       /data/.songgen/manifests/          what this entrypoint downloaded and verified

   With ``SONGGEN_DATA_BUCKET=1`` (a Spaces bucket mount: uploads on close, no symlinks, stale reads)
   the three state files live on local disk (``SONGGEN_LOCAL_DIR/state``), restored from the bucket
   at boot and written back whole (temp file + rename, complete JSON only) when they change and once
   after the Studio stops. Nothing the entrypoint writes on the data dir is a symlink.
4. Weights, one of two ways:

   - a volume (default): a complete cache is recognised from the local manifests without any
     network access. What is missing of the runtime bundle and the models in ``SONGGEN_MODELS`` is
     filled by ``songgen_fill``, run as a process on its own environment (``SONGGEN_FILL_PYTHON``:
     huggingface_hub, which the Studio's pinned set has only in an old version): free space checked
     before the first byte, byte ranges over parallel connections, resumed after a broken connection
     or a restart, every file verified (sha256, or the git blob id for small files) before it is
     moved into place, progress (bytes, percent, rate) on stdout. A stop signal is passed on to it.
     The Studio's patched files are copied over the bundle.
   - read-only mounts (``SONGGEN_WEIGHTS_DIR``, e.g. Spaces repo volumes)::

       <weights>/runtime/{ckpt,third_party}   <- app/ckpt, app/third_party (via the link farm below)
       <weights>/models/<model_id>/           <- app/<model_id>

     Nothing is downloaded and nothing is written to a mount. The patched files go into a link farm
     on local disk (``SONGGEN_LOCAL_DIR/runtime``: real dirs along their paths, symlinks for every
     other entry, the patched files real). ``SONGGEN_COPY_MODELS=1`` copies the chosen models to
     ``SONGGEN_LOCAL_DIR/models`` first, each file read back and checked against the source's sha256.

   Either way the verified models are recorded in the Studio's ``verified_models.json``.
5. Starts the Studio (``python main.py --host 0.0.0.0 --port $PORT`` in the app directory), forwards
   SIGTERM/SIGINT/SIGHUP to it and exits with its exit code. With ``SONGGEN_DRAIN_SECONDS`` > 0 a
   SIGTERM is held back while songs run or wait, up to that long, so a platform stop does not cut a
   song; a second signal ends the drain.
6. Scale to zero without losing work: with ``SONGGEN_IDLE_STOP_MINUTES`` > 0 it watches the Studio's
   API and its access log. It never acts while a song is generating or waiting, or a model loads or
   downloads. What idle means depends on ``SONGGEN_PLATFORM``:

   - fly: after that long idle it stops the Studio and exits 0, so Fly stops the machine (the
     machine's restart policy must be ``on-failure`` or ``no``); Fly's proxy autostart brings it
     back on the next request.
   - spaces: a Space's sleep timer counts visits, not work; while busy the entrypoint visits the
     Space's own URL (``SONGGEN_KEEPAWAKE_URL``) every ``SONGGEN_KEEPAWAKE_SECONDS``, and stops once
     idle, so the timer (set to the same idle minutes) stops the Space. It never exits on its own.
   - kubernetes: after that long idle it scales its own Deployment to zero through the in-cluster
     API and keeps serving until the pod gets SIGTERM; a refused scale (403: the Role lacks
     ``patch`` on ``deployments/scale``) is logged and retried with a bounded back-off.

Why this self-stop and not Fly's proxy autostop (the default for a stack: self-stop on, proxy autostop
off): the proxy only sees HTTP traffic. A song takes minutes; the user closes the tab, the proxy sees
no more requests and stops the machine in the middle of the song, and anything still in the queue never
runs. The entrypoint asks the Studio itself whether work is running or waiting, so it only stops a
machine that is truly idle. Proxy autostop stays available for stacks that disable the self-stop.

Environment (all optional):

==============================  ==========================  =================================================
variable                        default                     meaning
==============================  ==========================  =================================================
SONGGEN_DATA_DIR                /data                       mount point of the persistent volume (or bucket)
SONGGEN_APP_DIR                 /opt/songgen/app            the Studio's app directory in the image
SONGGEN_MODELS                  base                        models to keep on the volume, comma separated:
                                                            base, base-new, base-full, large (or their ids
                                                            songgeneration_base, ...); "none" for none
SONGGEN_IDLE_STOP_MINUTES       15                          act on idleness (per SONGGEN_PLATFORM) after this
                                                            long; 0 turns it off (fractions allowed)
PORT                            7860                        port the Studio listens on
HF_TOKEN                        (unset)                     Hugging Face token, sent only to HF_ENDPOINT and
                                                            (spaces) over https to SPACE_HOST; never printed
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
                                                            (health checks; the keep-awake's own visits
                                                            are recognised by their marker)
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
SONGGEN_FILL_STREAMS            8                           connections the fill uses at once (1-64)
SONGGEN_FILL_PYTHON             /opt/fill-venv/bin/python   the interpreter of the fill's environment
SONGGEN_OVERLAY_DIR             /opt/songgen/overlay        patched files laid over the runtime bundle
SONGGEN_PLATFORM                fly                         fly, spaces or kubernetes: what stopping when
                                                            idle means (nothing else)
SONGGEN_DRAIN_SECONDS           0                           on SIGTERM, wait up to this long for running and
                                                            queued songs before stopping the Studio
SONGGEN_WEIGHTS_DIR             (unset)                     read-only mounts of the weight repos
                                                            (runtime/, models/<model_id>/): link, never fill
SONGGEN_COPY_MODELS             0                           1: copy the chosen models from the mounts to
                                                            SONGGEN_LOCAL_DIR at boot, verified
SONGGEN_LOCAL_DIR               /opt/songgen/local          container-local disk: link farm, model copies,
                                                            the state files of a bucket
SONGGEN_DATA_BUCKET             0                           1: SONGGEN_DATA_DIR is a bucket mount; state
                                                            files kept locally and mirrored to it whole
SONGGEN_STATE_SYNC_SECONDS      5                           how often changed state files reach the bucket
SONGGEN_CACHE_DIR               $SONGGEN_DATA_DIR/cache     HF_HOME, TORCH_HOME, XDG_CACHE_HOME, bytecode
SPACE_HOST                      (set by Spaces)             the Space's host; the only one the token is sent
                                                            to by the keep-awake
SONGGEN_KEEPAWAKE_URL           https://$SPACE_HOST/        spaces: URL visited while busy
SONGGEN_KEEPAWAKE_SECONDS       idle/4, at most 300         spaces: period of those visits; must be shorter
                                                            than the idle minutes (= the Space's sleep time)
KUBERNETES_SERVICE_HOST/_PORT   (set by Kubernetes)         kubernetes: the in-cluster API server
SONGGEN_K8S_DEPLOYMENT          (required)                  kubernetes: this Studio's own Deployment
SONGGEN_K8S_NAMESPACE           the service account's       kubernetes: the Deployment's namespace
SONGGEN_K8S_SERVICEACCOUNT_DIR  /var/run/secrets/           kubernetes: token, ca.crt and namespace files
                                kubernetes.io/serviceaccount
SONGGEN_K8S_RETRY_SECONDS       10                          kubernetes: first back-off after a failed scale
                                                            (doubles, at most 600)
==============================  ==========================  =================================================

Only the standard library is used so the package runs on whichever Python the image has (3.10+); the
fill, which needs huggingface_hub, is the sibling package ``songgen_fill``, started as a process.

Modules, lowest first; each imports only modules listed before it::

    console      log lines on stdout, byte counts
    errors       the failures that end a boot, each mapped to an exit code by __main__
    env          typed values read from the environment, every bad variable noted by name
    config       Settings (one function per group of variables), the model table, the platforms
    checksums    verifying a file against its size, sha256 or git blob id
    manifest     what is on the volume and verified, per repo
    progress     download (and copy) progress lines
    filljob      the contract with the fill process: its job (JSON on stdin) and its result line
    fill         what is complete on the volume (offline); the fill process for the rest
    layout       the data dir's layout, linked into the app directory; the Studio's state files
    statefiles   a bucket's state files: kept locally, restored at boot, mirrored back whole
    overlays     the Studio's patched files laid over the runtime bundle on a volume
    linkfarm     a writable stand-in for a read-only tree: real dirs only where files are replaced
    copier       SONGGEN_COPY_MODELS: verified copies of mounted models on local disk
    mounts       SONGGEN_WEIGHTS_DIR: the weights linked from read-only mounts
    privileges   handing the writable dirs to the runtime user and dropping root
    idle_stop    deciding when the Studio is idle; the policy interface
    keepawake    spaces: visiting the Space's own URL while work runs
    kube         kubernetes: scaling the own Deployment to zero through the in-cluster API
    idle_policy  what idle means per platform: exit, let the Space sleep, scale to zero
    drain        on SIGTERM, waiting for running and queued songs
    supervisor   running the Studio, forwarding signals, the exit code
    __main__     the boot sequence
"""
