# Empty compiler generated dependencies file for hookd_core.
# This may be replaced when dependencies are built.
