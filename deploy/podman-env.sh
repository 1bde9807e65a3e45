# Sourced by the deploy scripts and the compose test: when podman cannot run containers with
# its defaults here (a VM whose cgroups are in hybrid mode, whose ulimits may not be raised),
# points CONTAINERS_CONF at a configuration that can. A machine with unified cgroups (most
# current distributions) needs nothing of this.
# The sign: cgroups not in unified (v2) mode, which podman's default manager needs.
if [ -z "${CONTAINERS_CONF:-}" ] && [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ]; then
  mkdir -p .build-image
  cat > .build-image/containers.conf <<'CONF'
[containers]
default_ulimits = []

[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
CONF
  export CONTAINERS_CONF=$PWD/.build-image/containers.conf
fi
