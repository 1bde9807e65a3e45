#!/usr/bin/env bash
# Builds the images with podman from Debian's packages only (no image registry is needed):
#   localhost/sluice:latest           the server (deploy/Containerfile)
#   localhost/sluice-postgres:latest  PostgreSQL for deploy/compose.yaml (with --postgres)
#
# Each base root file system is made here with debootstrap (minbase), with only what runs
# there: for Sluice, CA certificates, the SQLite library, poppler-utils (PDFs) and the C/C++
# runtime; then imported into podman. The release `sluice` is built on this machine (or given
# as SLUICE_BINARY) and goes in stripped, with the Swift runtime libraries it links.
#
#   deploy/build-image.sh [--postgres] [--rebuild-base]
#
# Needs root (debootstrap), podman and debootstrap (`apt-get install podman runc debootstrap`).
# Where podman's defaults cannot run (a VM whose ulimits may not be raised, cgroups in hybrid
# mode), CONTAINERS_CONF is pointed at a configuration written under .build-image/.
set -euo pipefail
cd "$(dirname "$0")/.."
postgres=false
rebuild=false
for argument in "$@"; do
  case "$argument" in
    --postgres) postgres=true ;;
    --rebuild-base) rebuild=true ;;
    *) echo "usage: deploy/build-image.sh [--postgres] [--rebuild-base]" >&2; exit 64 ;;
  esac
done
work=.build-image
mkdir -p "$work"
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=bookworm

# shellcheck source=deploy/podman-env.sh
source deploy/podman-env.sh

# A minbase root with `packages`, imported as `image` (kept unless --rebuild-base).
base() {
  local image=$1 packages=$2 root="$work/root-${1##*/}"
  if ! $rebuild && podman image exists "$image"; then return; fi
  rm -rf "$root"
  debootstrap --variant=minbase --include="$packages" "$suite" "$root" "$mirror" > "$work/debootstrap.log"
  # What only a package manager or a reader of documentation needs.
  chroot "$root" apt-get clean
  rm -rf "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
    "$root"/usr/share/locale/* "$root"/var/cache/debconf/*-old "$root"/var/log/*
  tar --numeric-owner -C "$root" -c . | podman import --message "debootstrap $suite minbase + $packages" - "$image" > /dev/null
  rm -rf "$root"
}

# The Sluice image.
binary=${SLUICE_BINARY:-}
if [ -z "$binary" ]; then
  swift build -c release --product sluice
  binary=$(swift build -c release --show-bin-path)/sluice
fi
base localhost/sluice-base:bookworm ca-certificates,libsqlite3-0,poppler-utils,libstdc++6,zlib1g,tzdata
context="$work/context"
rm -rf "$context"
mkdir -p "$context/swift-runtime"
strip -o "$context/sluice" "$binary"
# The Swift runtime libraries the binary links (everything ldd finds under the toolchain).
ldd "$binary" | awk '$3 ~ /\/swift\/linux\// { print $3 }' | while read -r library; do
  strip --strip-unneeded -o "$context/swift-runtime/$(basename "$library")" "$library"
done
# The resource bundles (presets, web page templates, the OpenAPI document) sit beside the binary.
mkdir -p "$context/bin"
mv "$context/sluice" "$context/bin/sluice"
cp -r "$(dirname "$binary")"/*.resources "$context/bin/"
cp -r Examples "$context/Examples"
cp deploy/healthcheck "$context/healthcheck"
podman build --format docker --from localhost/sluice-base:bookworm -f deploy/Containerfile -t localhost/sluice:latest "$context"
echo "built localhost/sluice:latest ($(podman image inspect localhost/sluice:latest --format '{{.Size}}') bytes)"

if $postgres; then
  base localhost/sluice-postgres-base:bookworm postgresql-15
  mkdir -p "$work/postgres"
  cp deploy/postgres-entrypoint "$work/postgres/"
  podman build --format docker --from localhost/sluice-postgres-base:bookworm -f deploy/Containerfile.postgres \
    -t localhost/sluice-postgres:latest "$work/postgres"
  echo "built localhost/sluice-postgres:latest ($(podman image inspect localhost/sluice-postgres:latest --format '{{.Size}}') bytes)"
fi
