#!/usr/bin/env bash
# Boots a real Debian kernel under QEMU with a gpio-sim chip labelled like a Pi's header chip, and runs the
# character-device GPIO checks (test/rpi-chardev-kernel-guest.ts) against it; on amd64 then the audited
# I2C helpers (rpi/i2c.ts on the real i2c-bus) against the kernel's i2c-stub. This machine has no GPIO and
# cannot load modules, so the VM is how a real kernel gpiochip (the real uAPI, not a mock) is had.
#
#   scripts/kernel-gpio.sh build   download (apt-get download) + build the image into the cache (once, ~2 min)
#   scripts/kernel-gpio.sh run     boot it; the guest's lines go to stdout (serial console), then it powers off
#   scripts/kernel-gpio.sh info    print the cache dir and whether the image is complete
#
# PCP_KERNEL_ARCH=amd64 (default) boots Debian's amd64 kernel under qemu-system-x86_64; PCP_KERNEL_ARCH=arm64
# boots Debian's arm64 kernel of the same version under qemu-system-aarch64 -M virt -cpu cortex-a72 (apt-get
# install qemu-system-arm), so the arm64 PREBUILD a Pi 4/5/Zero 2 W runs makes its GPIO ioctls on an arm64
# kernel (qemu-user cannot: it answers GPIO ioctls "Unsupported ioctl").
#
# Why gpio-sim is built here: Debian's kernels (bookworm 6.1 and 6.12) have CONFIG_GPIO_SIM unset, so
# no Debian package ships gpio-sim.ko. We build it out of tree from the Debian kernel source package of the
# SAME version as the booted image (linux-source-6.12, linux-headers, linux-kbuild), together with
# kernel/irq/irq_sim.c (CONFIG_IRQ_SIM is a bool that is also unset), changing one line: irq_sim calls
# handle_simple_irq(irq_to_desc(irq)), and irq_to_desc is not exported to modules, so it calls
# generic_handle_irq(irq), which runs the same handle_simple_irq via the descriptor. The module is
# unsigned (the kernel taints but loads it: MODULE_SIG_FORCE is unset). For arm64 it is cross-built with
# linux-headers-*-arm64 (arm64 package) and linux-kbuild (the HOST's: its fixdep/modpost run here) with
# ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- (gcc-aarch64-linux-gnu).
#
# The guest has no disk: a busybox initramfs loads the modules and mounts this host's / read-only over
# virtio-9p. amd64: it chroots into it, so it runs the host's node, the repo's node_modules (tsx, i2c-bus)
# and the gpiochip addon (rpi/native/prebuilds/linux-x64) exactly as the host would. arm64: the host's
# binaries are x86, so the chroot is a tmpfs with Debian's arm64 nodejs sysroot (scripts/qemu-node.sh
# fetch arm64) bound at /usr and /lib and the repo bound at its own path; the same guest .ts runs under
# the repo's tsx on that Node 18, whose esbuild needs its arm64 binary (@esbuild/linux-arm64 of the same
# version, fetched with npm pack, given as ESBUILD_BINARY_PATH), and loads rpi/native/prebuilds/linux-arm64.
# onoff and i2c-bus are node-gyp builds for the host (x64), so the arm64 guest reports those parts skipped;
# Debian's arm64 kernel has no i2c-stub either (CONFIG_I2C_STUB unset).
set -euo pipefail

KARCH="${PCP_KERNEL_ARCH:-amd64}"
case "$KARCH" in
  amd64) QEMU=qemu-system-x86_64; DEB_ARCH=amd64 ;;
  arm64) QEMU=qemu-system-aarch64; DEB_ARCH=arm64 ;;
  *) echo "kernel-gpio: PCP_KERNEL_ARCH=$KARCH is not amd64 or arm64" >&2; exit 2 ;;
esac
KPKG_VERSION="${PCP_KERNEL_PKG_VERSION:-6.12.118-1~deb12u1}"
KREL="${PCP_KERNEL_RELEASE:-6.12.118+deb12-$KARCH}"
KABI="${KREL%-"$KARCH"}"
CACHE="${PCP_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pcp-edge/kernel-gpio/$KREL}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IMAGE="$CACHE/vmlinuz"
INITRD="$CACHE/initramfs.cpio.gz"
ESBUILD="$CACHE/esbuild/package/bin/esbuild"

log () { echo "kernel-gpio: $*" >&2; }
node_root () { "$REPO/scripts/qemu-node.sh" info arm64 | head -1; }

build () {
  mkdir -p "$CACHE/debs" "$CACHE/root"
  cd "$CACHE/debs"
  # The image, its headers and busybox are the guest's architecture; linux-kbuild is the host's (its
  # programs run during the build); -common and linux-source are arch-independent.
  local pkgs=("linux-image-$KREL:$DEB_ARCH=$KPKG_VERSION" "linux-headers-$KREL:$DEB_ARCH=$KPKG_VERSION" "linux-headers-$KABI-common=$KPKG_VERSION"
    "linux-kbuild-$KABI=$KPKG_VERSION" "linux-source-6.12=$KPKG_VERSION" "busybox-static:$DEB_ARCH")
  # The initramfs is packed by a busybox that runs here (the host has no cpio): the host's, for arm64 too.
  [ "$KARCH" = amd64 ] || pkgs+=(busybox-static:amd64)
  if ! ls linux-source-6.12_*.deb >/dev/null 2>&1 || ! ls busybox-static_*_"$DEB_ARCH".deb >/dev/null 2>&1 || ! ls busybox-static_*_amd64.deb >/dev/null 2>&1 || ! ls "linux-image-$KREL"_*.deb >/dev/null 2>&1 ||
     ! ls "linux-kbuild-$KABI"_*.deb >/dev/null 2>&1 || ! ls "linux-headers-$KABI-common"_*.deb >/dev/null 2>&1; then
    log "apt-get download ${pkgs[*]}"
    apt-get download "${pkgs[@]}" >&2
  fi
  local R="$CACHE/root"
  if [ ! -f "$R/boot/vmlinuz-$KREL" ] || [ ! -d "$R/usr/lib/linux-kbuild-$KABI" ]; then
    for d in linux-image-"$KREL"_*.deb linux-headers-"$KREL"_*.deb linux-headers-"$KABI"-common_*.deb linux-kbuild-"$KABI"_*.deb busybox-static_*_"$DEB_ARCH".deb; do dpkg-deb -x "$d" "$R"; done
    # The headers' Makefile includes the -common tree by absolute /usr/src path; point it into the cache.
    sed -i "s|include /usr/src/|include $R/usr/src/|" "$R/usr/src/linux-headers-$KREL/Makefile"
  fi
  local SRC="$CACHE/src" MOD="$CACHE/mod"
  if [ ! -f "$SRC/gpio-sim.c" ]; then
    mkdir -p "$SRC" "$CACHE/srcdeb"
    dpkg-deb -x linux-source-6.12_*.deb "$CACHE/srcdeb"
    log "extracting gpio-sim.c and irq_sim.c from linux-source-6.12 (xz, ~1 min)"
    tar -xJf "$CACHE"/srcdeb/usr/src/linux-source-6.12.tar.xz -C "$SRC" --strip-components=1 \
      linux-source-6.12/drivers/gpio/gpio-sim.c linux-source-6.12/kernel/irq/irq_sim.c
    mv "$SRC/drivers/gpio/gpio-sim.c" "$SRC/kernel/irq/irq_sim.c" "$SRC/"
    rm -rf "$CACHE/srcdeb"
  fi
  if [ ! -f "$MOD/gpio-sim.ko" ]; then
    rm -rf "$MOD"; mkdir -p "$MOD"
    cp "$SRC/gpio-sim.c" "$MOD/gpio-sim-main.c"
    sed 's|handle_simple_irq(irq_to_desc(irqnum));|generic_handle_irq(irqnum);|' "$SRC/irq_sim.c" > "$MOD/irq_sim.c"
    grep -q 'generic_handle_irq(irqnum);' "$MOD/irq_sim.c" || { log "irq_sim.c changed upstream: the one-line patch did not apply"; exit 1; }
    printf 'obj-m := gpio-sim.o\ngpio-sim-y := gpio-sim-main.o irq_sim.o\n' > "$MOD/Kbuild"
    log "building gpio-sim.ko against linux-headers-$KREL"
    local cross=()
    [ "$KARCH" = arm64 ] && cross=(ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-)
    # BTF for modules needs pahole, which is only debug info: not needed to load or run the module.
    make -s -C "$R/usr/src/linux-headers-$KREL" M="$MOD" "${cross[@]}" CONFIG_DEBUG_INFO_BTF_MODULES= modules >&2
  fi
  local mods=(fs/configfs/configfs fs/netfs/netfs net/9p/9pnet net/9p/9pnet_virtio fs/9p/9p)
  if [ "$KARCH" = amd64 ]; then
    mods+=(drivers/i2c/i2c-stub drivers/i2c/i2c-dev)
  else
    [ -x "$(node_root)/usr/bin/node" ] || "$REPO/scripts/qemu-node.sh" fetch arm64
    if [ ! -x "$ESBUILD" ]; then
      local v; v="$(node -p "require('$REPO/node_modules/esbuild/package.json').version")"
      log "npm pack @esbuild/linux-arm64@$v (tsx's esbuild, for the arm64 guest)"
      rm -rf "$CACHE/esbuild"; mkdir -p "$CACHE/esbuild"
      (cd "$CACHE/esbuild" && npm pack --silent "@esbuild/linux-arm64@$v" >/dev/null && tar -xzf ./*.tgz)
    fi
  fi
  local HOSTBB="$R/bin/busybox"
  if [ "$KARCH" != amd64 ]; then
    [ -x "$CACHE/hostbb/bin/busybox" ] || dpkg-deb -x busybox-static_*_amd64.deb "$CACHE/hostbb"
    HOSTBB="$CACHE/hostbb/bin/busybox"
  fi
  local I="$CACHE/initramfs"
  rm -rf "$I"; mkdir -p "$I"/{bin,proc,sys,dev,host,new,lib/modules}
  cp "$R/bin/busybox" "$I/bin/busybox"
  for a in sh mount insmod mkdir poweroff chroot cat echo sleep cp ln; do ln -s busybox "$I/bin/$a"; done
  local KM="$R/lib/modules/$KREL/kernel"
  # Load order follows each module's depends= (modinfo): netfs before 9pnet before 9p.
  for m in "${mods[@]}"; do xz -dc "$KM/$m.ko.xz" > "$I/lib/modules/$(basename "$m").ko"; done
  cp "$MOD/gpio-sim.ko" "$I/lib/modules/gpio-sim.ko"
  cat > "$I/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in configfs netfs 9pnet 9pnet_virtio 9p gpio-sim; do insmod /lib/modules/$m.ko || echo "PCPK-ERROR insmod $m"; done
mount -t 9p -o trans=virtio,version=9p2000.L,ro hostroot /host || echo "PCPK-ERROR mount 9p"
ARGS=$(cat /proc/cmdline)
arg () { case " $ARGS " in *" pcp.$1="*) v=${ARGS##*pcp.$1=}; echo "${v%% *}" ;; esac; }
REPO=$(arg repo); NODEROOT=$(arg noderoot); ESB=$(arg esbuild)
if [ -z "$NODEROOT" ]; then
  # amd64: the host's own userland is this architecture's.
  R=/host
  if [ -f /lib/modules/i2c-dev.ko ]; then
    insmod /lib/modules/i2c-dev.ko || echo "PCPK-ERROR insmod i2c-dev"
    # i2c-stub: a 24c02-like EEPROM at 0x50 and a byte-data device at 0x48, for the I2C helpers.
    insmod /lib/modules/i2c-stub.ko chip_addr=0x50,0x48 || echo "PCPK-ERROR insmod i2c-stub"
  fi
else
  # arm64: a tmpfs root holding Debian's arm64 node sysroot and the repo, both read-only from the host.
  R=/new
  mount -t tmpfs -o size=512m new $R
  mkdir -p $R/bin $R/usr $R/lib $R/etc $R/proc $R/sys $R/dev $R/tmp $R/root $R/host $R$REPO
  cp /bin/busybox $R/bin/busybox; ln -s busybox $R/bin/sh
  for d in usr lib etc; do mount -o bind /host$NODEROOT/$d $R/$d || echo "PCPK-ERROR bind $d"; done
  mount -o bind /host$REPO $R$REPO || echo "PCPK-ERROR bind repo"
  mount -o bind /host $R/host
fi
mount -t proc proc $R/proc; mount -t sysfs sys $R/sys; mount -t devtmpfs dev $R/dev
mount -t configfs none $R/sys/kernel/config; mount -t debugfs none $R/sys/kernel/debug
mount -t tmpfs -o size=512m tmp $R/tmp; mount -t tmpfs tmp $R/root
echo "PCPK-BOOT kernel=$(cat /proc/sys/kernel/osrelease) repo=$REPO"
ENVS="HOME=/root TMPDIR=/tmp PATH=/usr/local/bin:/usr/bin:/bin NODE_OPTIONS="
[ -n "$ESB" ] && ENVS="$ENVS ESBUILD_BINARY_PATH=/host$ESB"
chroot $R /bin/sh -c "cd '$REPO' && export $ENVS && node --import tsx test/rpi-chardev-kernel-guest.ts"
echo "PCPK-EXIT $?"
poweroff -f
INIT
  chmod +x "$I/init"
  (cd "$I" && find . | "$HOSTBB" cpio -o -H newc 2>/dev/null | gzip -1) > "$INITRD.tmp"
  mv "$INITRD.tmp" "$INITRD"
  cp "$R/boot/vmlinuz-$KREL" "$IMAGE"
  log "image ready: $IMAGE $INITRD"
}

complete () {
  [ -f "$IMAGE" ] && [ -f "$INITRD" ] || return 1
  [ "$KARCH" = amd64 ] || { [ -x "$(node_root)/usr/bin/node" ] && [ -x "$ESBUILD" ]; }
}

run () {
  complete || { log "no image in $CACHE: run PCP_KERNEL_ARCH=$KARCH $0 build"; exit 3; }
  local virtfs=(-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap)
  # -no-reboot + panic=-1: a kernel panic ends QEMU instead of looping; the host test also has a timeout.
  if [ "$KARCH" = arm64 ]; then
    # Always TCG: the host is x86. The kernel boots straight from -kernel (an uncompressed Image, no EFI).
    exec qemu-system-aarch64 -M virt -cpu "${PCP_KERNEL_CPU:-cortex-a72}" -m "${PCP_KERNEL_MEM_MB:-1536}" -smp 1 -nographic -no-reboot \
      -kernel "$IMAGE" -initrd "$INITRD" \
      -append "console=ttyAMA0 quiet loglevel=3 panic=-1 pcp.repo=$REPO pcp.noderoot=$(node_root) pcp.esbuild=$ESBUILD" \
      "${virtfs[@]}" -nic none
  fi
  # TCG by default: on this host (itself a Firecracker VM) nested KVM fails: "-cpu host" aborts with
  # "failed to set MSR 0x10a", and with -arch-capabilities the kernel's decompressor stops with "KVM internal
  # error. Suberror: 1 ... emulation failure". PCP_KERNEL_ACCEL=-enable-kvm PCP_KERNEL_CPU=host tries KVM.
  exec qemu-system-x86_64 ${PCP_KERNEL_ACCEL:--accel tcg} -cpu "${PCP_KERNEL_CPU:-max}" -m "${PCP_KERNEL_MEM_MB:-1536}" -smp 1 -nographic -no-reboot \
    -kernel "$IMAGE" -initrd "$INITRD" \
    -append "console=ttyS0 quiet loglevel=3 panic=-1 pcp.repo=$REPO" \
    "${virtfs[@]}" -nic none
}

case "${1:-}" in
  build) build ;;
  run) run ;;
  info) echo "$CACHE"; complete && echo complete || echo missing ;;
  *) echo "usage: [PCP_KERNEL_ARCH=amd64|arm64] $0 build|run|info" >&2; exit 2 ;;
esac
