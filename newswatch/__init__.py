"""The shell: settings, logging, the CLI and the process roles that wire the parts together."""
