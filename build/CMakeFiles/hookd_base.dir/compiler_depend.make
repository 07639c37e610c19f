# Empty compiler generated dependencies file for hookd_base.
# This may be replaced when dependencies are built.
