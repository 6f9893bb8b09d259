"""Hugging Face Spaces as a place to run the Studio: its settings, what it does not offer, its notices and its
deploy."""

from __future__ import annotations

from collections.abc import Mapping

from components.dynamic import ownership
from components.platform import PlatformOf
from components.settings import PlatformName, StudioSettings

from . import studio
from .catalog import FOLLOW_MAIN, HUB_URL
from .settings import SpacesSettings


class SpacesPlatform(PlatformOf[SpacesSettings]):
    name = PlatformName.SPACES
    unsupported: Mapping[str, str] = {
        "scale": "a Space runs one container; there are no machines per region to scale to",
        "shell": "a Space has no shell outside dev mode (a paid feature this stack does not turn on)",
        "suspend": "a Space sleeps (a visit restarts it) or is paused by its owner; there is no suspend",
    }

    def __init__(self) -> None:
        super().__init__(SpacesSettings, deploy=studio.deploy, stores=_stores)

    def notices(self, settings: StudioSettings) -> list[str]:
        spaces = self.own(settings)
        endpoint = studio.hub_endpoint(spaces)
        notices = []
        if endpoint != HUB_URL:
            notices.append(
                f"This stack targets a Hugging Face Hub at {endpoint}, not {HUB_URL} (a stand-in when it is on "
                "127.0.0.1): nothing there builds or runs a container, and nothing is billed."
            )
        else:
            notices.append(
                f"The Space {spaces.repo_id} runs on {spaces.space_hardware} at ${spaces.flavor_rate:.2f} an hour "
                f"while it starts or runs, and sleeps after {spaces.idle_stop_minutes} idle minutes, billing "
                "nothing until a visit wakes it. " + studio.LICENCE
            )
        following = [
            key
            for key in ("runtime", *(m.value for m in spaces.models))
            if spaces.revision_of(key) == FOLLOW_MAIN
        ]
        if following:
            notices.append(
                f"Weights of {', '.join(following)} are mounted at the commit their main branch points at on the "
                "first deploy, then kept there (the weights output lists them); songgen-studio:weightRevisions "
                "pins them explicitly."
            )
        return notices


def _stores(spaces: SpacesSettings) -> Mapping[str, str]:
    # The bucket's name carries the owner id of the program running now.
    return studio.stored_data(spaces, ownership.current_owner())


PLATFORM = SpacesPlatform()
