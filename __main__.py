"""SongGeneration Studio, wherever the stack's platform runs it: read the settings, declare the Studio, export
the outcome."""

import pulumi

from components.platforms import from_stack_config, platform_of
from components.settings import SettingsError
from components.studio import SongGenStudio

try:
    loaded = from_stack_config()
except SettingsError as err:
    # One line per broken key and no traceback: the message is the whole story.
    raise pulumi.RunError(str(err)) from None

settings = loaded.settings
for notice in [*loaded.warnings, *platform_of(settings).notices(settings)]:
    pulumi.log.warn(notice)

studio = SongGenStudio("studio", settings)
deployment = studio.deployment

pulumi.export("platform", settings.platform.value)
pulumi.export("url", deployment.url)
pulumi.export("image", deployment.image)
pulumi.export("runs", deployment.runs)
pulumi.export("stores", deployment.stores)
pulumi.export("cost_usd", deployment.cost.as_output())
pulumi.export("look", dict(deployment.look))
for key, value in deployment.extras.items():
    pulumi.export(key, value)
