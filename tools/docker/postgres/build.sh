#!/usr/bin/env bash
# Builds the PostgreSQL 15 image from this machine's own Debian packages (no
# registry): the files of postgresql-15 and postgresql-client-15, the time
# zone data, dash as /bin/sh and every shared library those binaries load,
# assembled into a root filesystem, `docker import`ed, with
# tools/docker/postgres/Dockerfile on top. The tag is a hash of that root
# filesystem and the Dockerfile, so an unchanged machine reuses the image and
# a package upgrade or an edit here builds a new one. Prints the tag.
set -euo pipefail
cd "$(dirname "$0")"
log() { echo "postgres image: $*" >&2; }
bash ../../pg/ensure-postgres.sh
if ! dpkg-query -W postgresql-15 >/dev/null 2>&1; then
	source ../../apt/lock.sh
	dpkg-query -W postgresql-15 >/dev/null 2>&1 || {
		log "installing postgresql-15 from apt"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null
	}
	exec 9>&-
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"/{usr/bin,usr/lib,usr/lib64,usr/local/bin,etc,tmp,var/run/postgresql,var/lib/postgresql/data}
# Debian's merged /usr: library paths ldd prints under /lib resolve there.
for d in bin lib lib64; do ln -s "usr/$d" "$root/$d"; done

# Package files, without documentation, the build kit (pgxs) and the JIT
# (LLVM alone would double the image; without it PostgreSQL runs with
# jit unavailable, as the official image's "jit" is an opt-in too).
dpkg -L postgresql-15 postgresql-client-15 |
	grep -E '^/usr/(lib|share)/postgresql/15/' |
	grep -Ev '/(man|pgxs|bitcode)/|/llvmjit' |
	while read -r f; do
		if [ -f "$f" ] || [ -L "$f" ]; then echo "$f"; fi
	done >"$work/files"
sed 's|^/||' "$work/files" | tar -C / -cf - --no-recursion -T - | tar -C "$root" -xf - --keep-directory-symlink
tar -C / -cf - usr/share/zoneinfo | tar -C "$root" -xf - --keep-directory-symlink
cp -L /usr/bin/dash "$root/usr/bin/sh"

# Every shared library an ELF file of the image loads, and the loader.
find "$root" -type f -perm -u+x -o -type f -name '*.so*' | while read -r f; do
	if [ "$(head -c4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ]; then
		ldd "$f" 2>/dev/null | awk '/=> \//{print $3} /^\t\//{print $1}'
	fi
done | sort -u >"$work/libs"
while read -r lib; do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done <"$work/libs"

cp entrypoint.sh "$root/usr/local/bin/docker-entrypoint.sh"
chmod 0755 "$root/usr/local/bin/docker-entrypoint.sh"
# The official image's user: uid and gid 999.
printf 'root:x:0:0:root:/root:/bin/sh\npostgres:x:999:999::/var/lib/postgresql:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\npostgres:x:999:\n' >"$root/etc/group"
chmod 1777 "$root/tmp"
chown -R 999:999 "$root/var/lib/postgresql" "$root/var/run/postgresql"
chmod 0700 "$root/var/lib/postgresql/data"
chmod 2775 "$root/var/run/postgresql"

# A reproducible archive: same files, same bytes, same hash.
tar -C "$root" --sort=name --mtime=@0 --numeric-owner -cf "$work/rootfs.tar" .
hash=$(cat "$work/rootfs.tar" Dockerfile | sha256sum | cut -c1-16)
tag=memoryd-postgres:15-$hash
if docker image inspect "$tag" >/dev/null 2>&1; then
	echo "$tag"
	exit 0
fi
log "building $tag ($(du -h "$work/rootfs.tar" | cut -f1) root filesystem)"
docker import "$work/rootfs.tar" "memoryd-postgres-base:$hash" >/dev/null
mkdir "$work/ctx"
cp Dockerfile "$work/ctx/"
docker build -q --build-arg "BASE=memoryd-postgres-base:$hash" -t "$tag" "$work/ctx" >/dev/null
echo "$tag"
