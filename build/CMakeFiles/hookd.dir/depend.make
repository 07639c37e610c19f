# Empty dependencies file for hookd.
# This may be replaced when dependencies are built.
