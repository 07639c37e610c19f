# Install layout and Debian package (CPack): being written.
