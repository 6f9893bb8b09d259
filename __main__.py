"""SongGeneration Studio on Fly.io: read the stack's settings, declare the Studio, export the outcome."""

import pulumi

from components.settings import SettingsError, from_stack_config

try:
    loaded = from_stack_config()
except SettingsError as err:
    # One line per broken key and no traceback: the message is the whole story.
    raise pulumi.RunError(str(err)) from None

for warning in loaded.warnings:
    pulumi.log.warn(warning)

settings = loaded.settings
pulumi.export(
    "settings",
    settings.model_dump(mode="json", exclude={"hf_token"}, by_alias=True),
)
