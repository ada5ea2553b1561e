# Sourced by every script here that installs from apt: test binaries may call
# them at once, and apt takes one caller at a time. It waits for the others
# and holds the lock on descriptor 9 until the script exits or closes it;
# the caller then looks again for what it would install.
exec 9>"${TMPDIR:-/tmp}/memoryd-apt.lock"
flock 9
