"""The Spaces sandbox's stand-in: the bundled Hugging Face Hub stand-in (hub_emulator) on 127.0.0.1, with the
sandbox user, its token, and the weight repos a Space mounts.

Spaces there go through their stages (build, start, sleep) without any container running; nothing reaches
huggingface.co. The stack reaches it through HF_ENDPOINT, as a deploy reaches a Hub mirror.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from hub_emulator import HubEmulator
from lifecycle.stand_ins import StandIn

STACK = "sandbox-spaces"
# Pulumi.sandbox-spaces.yaml holds this token (encrypted with the sandbox passphrase): published on purpose.
SPACES_SANDBOX_USER = "songgen-sandbox"
SPACES_SANDBOX_TOKEN = "hf_sandbox_standin_token_published_on_purpose"  # noqa: S105
# The weight repos a Space mounts, as tiny stand-ins (the stand-in refuses to mount a repo it lacks).
WEIGHT_REPOS = (
    "lglg666/SongGeneration-Runtime",
    "lglg666/SongGeneration-base",
    "lglg666/SongGeneration-base-new",
    "lglg666/SongGeneration-base-full",
    "lglg666/SongGeneration-large",
)


def seed_weight_repos(hub: HubEmulator) -> dict[str, str]:
    """Each weight repo with one small file; returns repo -> its commit."""
    return {repo: hub.add_repo(repo, {"README.md": f"stand-in for {repo}\n"}) for repo in WEIGHT_REPOS}


@contextmanager
def spaces_stand_in() -> Iterator[StandIn]:
    with HubEmulator(build_seconds=0.5, start_seconds=0.5) as hub:
        hub.add_user(SPACES_SANDBOX_USER)
        hub.add_token(SPACES_SANDBOX_TOKEN, SPACES_SANDBOX_USER)
        seed_weight_repos(hub)
        yield StandIn(
            stack=STACK,
            # HF_TOKEN too, so a real token in the caller's environment never reaches the stand-in.
            env={"HF_ENDPOINT": hub.url, "HF_TOKEN": SPACES_SANDBOX_TOKEN},
            banner=[
                f"started a STAND-IN of the Hugging Face Hub at {hub.url}: Spaces are built and run there only "
                "as stages (no container runs). Nothing here talks to huggingface.co; nothing is billed."
            ],
            billable=hub.leftovers,
            nothing_left="no Space, bucket or repo made by the stack",
        )
