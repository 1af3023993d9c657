#!/bin/sh
# The image's entrypoint, made to behave as the official redis image's does:
#   docker run IMG                                  -> the server with the baked config
#   docker run IMG --appendonly yes                 -> the same, with directives on the command line
#   docker run IMG redis-server --appendonly yes    -> the same
#   docker run IMG redis-server /path/redis.conf    -> the server with that config file instead
#   docker run IMG sh | redis-cli ...               -> that command
# Started as root, it gives the working directory (/data) to the server's user and drops to it.
# The image paths come from the environment (set in the Dockerfile), so the script runs outside
# the image too (the tests run it on the host).
set -e

: "${MINIREDIS_APP:=/app}"
: "${MINIREDIS_CONFIG:=/etc/miniredis/redis.conf}"
: "${MINIREDIS_USER:=app}"

# Only options, or a config file: they are the server's arguments.
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
	set -- redis-server "$@"
fi

if [ "$1" = redis-server ] || [ "$1" = miniredis-server ]; then
	if [ "$(id -u)" = 0 ]; then
		find . \! -user "$MINIREDIS_USER" -exec chown "$MINIREDIS_USER" '{}' +
		exec setpriv --reuid="$MINIREDIS_USER" --regid="$(id -g "$MINIREDIS_USER")" --init-groups "$0" "$@"
	fi
	shift
	# Data files readable by the server's user only, as the official image does, unless the
	# container was given a umask of its own.
	if [ "$(umask)" = 0022 ]; then
		umask 0077
	fi
	if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
		# The user's config file replaces the baked one. The official image's server is built with
		# protected mode off (a container is reached from outside its loopback); here that default
		# is given on the command line unless the file sets it.
		config=$1
		shift
		if ! grep -q '^[[:space:]]*protected-mode[[:space:]]' "$config" 2>/dev/null; then
			set -- --protected-mode no "$@"
		fi
		set -- "$config" "$@"
	else
		set -- "$MINIREDIS_CONFIG" "$@"
	fi
	exec "$MINIREDIS_APP/miniredis-server" "$@"
fi

exec "$@"
