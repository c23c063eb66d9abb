#!/bin/sh
# run-example.sh BIN: serves examples/site on http://127.0.0.1:8080 in the
# foreground (Ctrl-C stops it). Started as root, hermit needs an identity to
# drop to: nobody, unless HERMIT_USER names another.
set -eu
bin=$1
site=examples/site
# The content must be readable by everyone: that is the publishing policy.
chmod -R a+rX "$site"
echo "hermit: serving $site on http://127.0.0.1:8080/ (Ctrl-C to stop)"
if [ "$(id -u)" = 0 ]; then
	exec "$bin" --listen 127.0.0.1:8080 --user "${HERMIT_USER:-nobody}" "$site"
fi
exec "$bin" --listen 127.0.0.1:8080 "$site"
