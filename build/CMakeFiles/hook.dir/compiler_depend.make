# Empty compiler generated dependencies file for hook.
# This may be replaced when dependencies are built.
