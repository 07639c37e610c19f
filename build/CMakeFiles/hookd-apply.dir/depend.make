# Empty dependencies file for hookd-apply.
# This may be replaced when dependencies are built.
