#!/bin/sh
# Run by test_deploy_guide.py under `unshare --mount --net --propagation private --fork`: makes ROOT (prepared
# by the test) a root directory standing for a fresh Debian 12 host, then runs the systemd stand-in chrooted
# into it. Nothing here is visible outside these namespaces: the mounts and the network die with them.
#
#   enter.sh ROOT REPO BIN_DIR
set -eu
root=$1
repo=$2
bin_dir=$3
shim=$repo/Tests/integration/deploy_guide/shim.py

# The network of this host: loopback, and an interface with an address of its own standing for its public one
# (192.0.2.0/24 is reserved for documentation).
ip link set lo up
ip link add xomify0 type veth peer name xomify1
ip address add 192.0.2.10/24 dev xomify0
ip link set xomify0 up
ip link set xomify1 up

read_only() {
    mount --rbind "$1" "$2"
    mount -o remount,bind,ro "$2"
}

# The machine's programs and libraries, read-only; /usr/local of its own (where the guide installs).
read_only /usr "$root/usr"
mount --bind "$root/.usr-local" "$root/usr/local"
# What PID 1 and the network would do on a real host, in place of the commands (see shim.py).
for command in systemctl journalctl systemd-run apt-get; do
    mount --bind "$shim" "$root/usr/bin/$command"
done
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount --rbind /sys "$root/sys"
# The package database, for dpkg-query and pg_* wrappers; read-only.
for directory in /var/lib/dpkg /var/lib/apt /var/cache/apt; do
    read_only "$directory" "$root$directory"
done
# The Swift runtime the test's executables link to (the build is emulated: shim.py), the repository (the
# sandbox, the stand-ins) and the executables scripts/test built, at the same paths.
read_only /opt/swift/usr/lib "$root/opt/swift/usr/lib"
read_only "$repo" "$root$repo"
case "$bin_dir" in
    "$repo"/*) ;;
    *) read_only "$bin_dir" "$root$bin_dir" ;;
esac

exec chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    /usr/bin/python3 "$repo/Tests/integration/deploy_guide/emulator.py"
