"""``counter-app`` subcommands by area (cases, sync, security, deploy, archive, ui). Each module
has ``register(sub)``; errors users can fix are ``counter_app.errors.UserError`` and the CLI root
prints their message, so commands do not wrap the core's errors again."""
