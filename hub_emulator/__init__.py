"""A local stand-in for the Hugging Face Hub (https://huggingface.co), for the Spaces platform's tests,
benchmarks and the sandbox. Drive it with the real client: `HfApi(endpoint=hub.url, token=...)`.

It follows the Hub's documented behaviour and the way `huggingface_hub` 2.4 parses the Hub's answers, not any
client's convenience: a request it cannot answer the way the Hub would is an error in the Hub's shape
(`{"error": ...}` with `X-Error-Message`, and `X-Error-Code` where the Hub sets one), most often a 400 that
starts "Not modelled by the Hub stand-in", never a silent success.

Modules: state (data model), blobs (file contents and hashes), ids, errors, query (strict query readers), auth
(tokens, ownership), repostore (histories, lookups), card (README front matter), gitrules (paths, LFS
patterns, .gitignore), hardware (flavor catalog), lifecycle (Space stage machine), runtime (what events do to
a Space), volumes; routes: users (whoami), repos, commits, tree, downloads (resolve + CDN), spaces (settings,
runtime), logs (SSE), visits (the Space's host), buckets; streaming (bodies, ranges, bandwidth), reqlog
(request records), core, introspect (state, billable, leftovers, settings), fixtures (seeding), control
(/__hub), asgi (app + pipeline), server (HubEmulator), __main__ (`python -m hub_emulator`). What every
stand-in shares (the fault book, the pipeline, the request log, strict JSON readers, the server, the control
routes, the CLI) is in the `standin` package.

Where the Hub's answer is undocumented, the stand-in chooses and says so here:
- Auth: an unknown token is 401 "Invalid credentials in Authorization header"; a write without a token is 401;
  a read token's write, or a write to another user's public repo, is 403 with the stand-in's own sentence. A
  private repo the caller cannot see is 404 RepoNotFound (401 with that code for an anonymous caller).
  Members of the owning organisation are the only collaborators. Space settings (secrets and variables
  listings, logs) need write access; the runtime and info of a visible Space need none.
- A new Space gets the Hub's first commit (`.gitattributes` and a README card with `sdk: docker`) and stays
  NO_APP_FILE until a commit leaves a `Dockerfile` at the root; a README without front matter, with an SDK
  other than docker or a bad `app_port` is CONFIG_ERROR. Restarting either is a 400. No NO_APP_FILE Space is
  ever RUNNING.
- Every commit to a runnable Space rebuilds it. If an app was serving, it keeps serving during
  RUNNING_BUILDING -> RUNNING_APP_STARTING; a failed build ends in BUILD_ERROR and stops it. A restart, a
  wake-up, and a hardware or volume change while a container is starting or running, restart the container
  from the last image (APP_STARTING, no rebuild); other stages just record the change. A factory restart, or a restart after the head commit changed, rebuilds (BUILDING). A commit to
  a PAUSED Space leaves it PAUSED; the restart builds it. Secret and variable changes restart nothing.
- `gcTimeout` is null for "never" (a sleep time of -1, and the default on paid hardware) and 172800 on
  cpu-basic whatever was asked (the Hub accepts the call, HfApi warns). A sleep time must be -1 or positive.
  `hardware.current` is null while nothing runs (before the first start, STOPPED, PAUSED, errors).
- The Space's host is `<endpoint>/__spaces/<subdomain>` (the Hub's `https://<subdomain>.hf.space`). A visit
  answers 503 unless an app serves, wakes a STOPPED Space (and is 503 itself), never wakes a PAUSED one, and
  is 404 for a private Space to anyone but its owner or organisation (a read token suffices).
- Commits: only regular git blobs. `preupload` refuses with a 400 naming the file any file the Hub would send
  through LFS/Xet: bigger than `regular_file_limit` (10 000 000 bytes by default: the Hub's 10 MB limit outside LFS),
  binary (a NUL byte in the 512-byte sample), or matching the repo's `.gitattributes` LFS patterns; empty files
  are always regular. A stale `parentCommit` is 412; deleting a missing file or folder is 404 EntryNotFound;
  `.gitignore` patterns (not negations) mark files `shouldIgnore`.
- Creating an existing repo or bucket is 409 with the existing `url` in the body (what `exist_ok` reads).
  Deleting a secret or variable that does not exist is 404.
- Downloads: a regular file's ETag is its git blob id; an LFS file's resolve answers 302 to a signed link on
  `cdn_host` (default `localhost`, same port) valid for an hour, with `X-Linked-Etag` (sha256) and
  `X-Linked-Size`; the CDN refuses a bad or expired signature (403) and any other host name (404). No Xet
  header is ever sent, so `huggingface_hub` downloads over plain HTTP.
- Logs: each SSE event's `data` ends with a newline; a stream closes when its phase is over or after
  `log_idle_seconds` without a line (the Hub keeps it open longer). Answers carry an exact `Date` header
  (`fetch_space_logs` ignores events later than Date + 1 s).
- Volumes: a repo volume is always read-only (`readOnly: false` is overridden), a bucket read-write by
  default; the source (and a repo revision) must exist and be visible to the caller, mount paths absolute and
  unique; otherwise 400. A bucket file's `xetHash` is its sha256.

Not modelled (an error, or simply absent): LFS and Xet transfers of any kind (repo uploads, bucket batch
uploads and downloads), branches, tags and pull requests (only `main` and commit ids as revisions), `expand`
on tree listings, security scans, gated repos, protected visibility, templates, resource groups, regions,
fine-grained tokens and OAuth, dev mode and hot reload, Gradio/Streamlit/static Spaces and ZeroGPU, hardware
outside the catalog in hardware.py, repo listings and search, duplication and moves, discussions, likes and
download counters, rate limits (inject 429 faults instead), replicas, and the app itself: no container runs,
so environment variables, secrets and mounts reach nothing; a visit to a serving Space answers for it.
"""

from hub_emulator.blobs import SyntheticContent, synthetic
from hub_emulator.reqlog import RequestRecord
from hub_emulator.server import HubEmulator, HubEmulatorError

__all__ = ["HubEmulator", "HubEmulatorError", "RequestRecord", "SyntheticContent", "synthetic"]
