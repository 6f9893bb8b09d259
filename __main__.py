"""SongGeneration Studio on Fly.io: read the stack's settings, declare the Studio, export the outcome."""

import pulumi

from components.settings import SettingsError, from_stack_config
from components.studio import SongGenStudio, gpu_end_of_life_notice

try:
    loaded = from_stack_config()
except SettingsError as err:
    # One line per broken key and no traceback: the message is the whole story.
    raise pulumi.RunError(str(err)) from None

settings = loaded.settings
for warning in [*loaded.warnings, gpu_end_of_life_notice(settings)]:
    pulumi.log.warn(warning)

studio = SongGenStudio("studio", settings)

pulumi.export("url", studio.url)
pulumi.export("app", studio.app_name)
pulumi.export("image", studio.image_ref)
pulumi.export(
    "machines",
    pulumi.Output.all(*[{"id": m.machine_id, "region": m.region} for m in studio.machines]),
)
pulumi.export("volumes", pulumi.Output.all(*[v.volume_id for v in studio.volumes]))
pulumi.export("cost_usd", studio.cost.as_output())
