#!/usr/bin/env bash
# Runs Debian's own Node (bookworm's nodejs 18, arm64 or armhf) under qemu-user on this x86 host, so the
# prebuilt gpiochip addons for the Pi (rpi/native/prebuilds/linux-arm64, linux-arm) are loaded by a real
# Node of that architecture and make real syscalls (qemu-user passes ioctl and epoll to this kernel).
# test/rpi-prebuilds.test.ts uses it when the sysroot is there and skips with the reason otherwise.
#
#   scripts/qemu-node.sh fetch arm64|armhf        apt-get download nodejs + its libraries into the cache
#   scripts/qemu-node.sh run arm64|armhf ARGS...  node ARGS under qemu-<arch>-static with that sysroot
#   scripts/qemu-node.sh info arm64|armhf         print the sysroot dir and whether it is complete
#
# fetch needs the foreign architecture known to apt once (as root):
#   dpkg --add-architecture arm64 && dpkg --add-architecture armhf && apt-get update
# and qemu-user-static (apt-get install qemu-user-static). Node 18 is enough: the addon is Node-API 8.
set -euo pipefail

ARCH="${2:-}"
case "$ARCH" in arm64) QEMU=qemu-aarch64-static ;; armhf) QEMU=qemu-arm-static ;; *) echo "usage: $0 fetch|run|info arm64|armhf" >&2; exit 2 ;; esac
CACHE="${PCP_QEMU_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pcp-edge/qemu-node}"
ROOTFS="$CACHE/$ARCH/root"
NODE="$ROOTFS/usr/bin/node"

fetch () {
  mkdir -p "$CACHE/$ARCH/debs" && cd "$CACHE/$ARCH/debs"
  # nodejs and libnode108's Depends, and theirs (apt-cache depends nodejs:<arch> libnode108:<arch>).
  local libs=(nodejs libnode108 libc6 libgcc-s1 libstdc++6 gcc-12-base libuv1 libicu72 libssl3 zlib1g libbrotli1 libnghttp2-14 libc-ares2)
  apt-get download "${libs[@]/%/:$ARCH}" node-acorn node-cjs-module-lexer node-undici >&2
  rm -rf "$ROOTFS.tmp" && mkdir -p "$ROOTFS.tmp"
  for d in ./*.deb; do dpkg-deb -x "$d" "$ROOTFS.tmp"; done
  rm -rf "$ROOTFS" && mv "$ROOTFS.tmp" "$ROOTFS"
  echo "qemu-node: $ARCH sysroot ready: $ROOTFS ($("$QEMU" -L "$ROOTFS" "$NODE" --version))" >&2
}

case "${1:-}" in
  fetch) fetch ;;
  run) shift 2; exec "$QEMU" -L "$ROOTFS" "$NODE" "$@" ;;
  info) echo "$ROOTFS"; [ -x "$NODE" ] && command -v "$QEMU" >/dev/null && echo complete || echo missing ;;
  *) echo "usage: $0 fetch|run|info arm64|armhf" >&2; exit 2 ;;
esac
