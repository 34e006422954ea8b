#!/usr/bin/env bash
# Boots a real Debian kernel under QEMU/KVM with a gpio-sim chip labelled like a Pi's header chip, and
# runs the character-device GPIO checks (test/rpi-chardev-kernel-guest.ts) against it, then the audited
# I2C helpers (rpi/i2c.ts on the real i2c-bus) against the kernel's i2c-stub. This machine has no
# GPIO and cannot load modules, so the VM is how a real kernel gpiochip (the real uAPI, not a mock) is had.
#
#   scripts/kernel-gpio.sh build   download (apt-get download) + build the image into the cache (once, ~2 min)
#   scripts/kernel-gpio.sh run     boot it; the guest's lines go to stdout (serial console), then it powers off
#   scripts/kernel-gpio.sh info    print the cache dir and whether the image is complete
#
# Why gpio-sim is built here: Debian's kernels (bookworm 6.1 and 6.12) have CONFIG_GPIO_SIM unset, so
# no Debian package ships gpio-sim.ko. We build it out of tree from the Debian kernel source package of the
# SAME version as the booted image (linux-source-6.12, linux-headers, linux-kbuild), together with
# kernel/irq/irq_sim.c (CONFIG_IRQ_SIM is a bool that is also unset), changing one line: irq_sim calls
# handle_simple_irq(irq_to_desc(irq)), and irq_to_desc is not exported to modules, so it calls
# generic_handle_irq(irq), which runs the same handle_simple_irq via the descriptor. The module is
# unsigned (the kernel taints but loads it: MODULE_SIG_FORCE is unset).
#
# The guest has no disk: a busybox initramfs loads the modules, mounts this host's / read-only over
# virtio-9p and chroots into it, so it runs the host's node, the repo's node_modules (tsx, i2c-bus) and the
# gpiochip addon (rpi/native/prebuilds/linux-x64) exactly as the host would.
set -euo pipefail

KPKG_VERSION="${PCP_KERNEL_PKG_VERSION:-6.12.118-1~deb12u1}"
KREL="${PCP_KERNEL_RELEASE:-6.12.118+deb12-amd64}"
KABI="${KREL%-amd64}"
CACHE="${PCP_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pcp-edge/kernel-gpio/$KREL}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IMAGE="$CACHE/vmlinuz"
INITRD="$CACHE/initramfs.cpio.gz"

log () { echo "kernel-gpio: $*" >&2; }

build () {
  mkdir -p "$CACHE/debs" "$CACHE/root"
  cd "$CACHE/debs"
  local pkgs=("linux-image-$KREL=$KPKG_VERSION" "linux-headers-$KREL=$KPKG_VERSION" "linux-headers-$KABI-common=$KPKG_VERSION"
    "linux-kbuild-$KABI=$KPKG_VERSION" "linux-source-6.12=$KPKG_VERSION" busybox-static)
  if ! ls linux-source-6.12_*.deb >/dev/null 2>&1 || ! ls busybox-static_*.deb >/dev/null 2>&1 || ! ls "linux-image-$KREL"_*.deb >/dev/null 2>&1; then
    log "apt-get download ${pkgs[*]}"
    apt-get download "${pkgs[@]}" >&2
  fi
  local R="$CACHE/root"
  if [ ! -f "$R/boot/vmlinuz-$KREL" ]; then
    for d in linux-image-"$KREL"_*.deb linux-headers-"$KREL"_*.deb linux-headers-"$KABI"-common_*.deb linux-kbuild-"$KABI"_*.deb busybox-static_*.deb; do dpkg-deb -x "$d" "$R"; done
    # The headers' Makefile includes the -common tree by absolute /usr/src path; point it into the cache.
    sed -i "s|/usr/src/|$R/usr/src/|" "$R/usr/src/linux-headers-$KREL/Makefile"
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
    # BTF for modules needs pahole, which is only debug info: not needed to load or run the module.
    make -s -C "$R/usr/src/linux-headers-$KREL" M="$MOD" CONFIG_DEBUG_INFO_BTF_MODULES= modules >&2
  fi
  local I="$CACHE/initramfs"
  rm -rf "$I"; mkdir -p "$I"/{bin,proc,sys,dev,host,lib/modules}
  cp "$R/bin/busybox" "$I/bin/busybox"
  for a in sh mount insmod mkdir poweroff chroot cat echo sleep; do ln -s busybox "$I/bin/$a"; done
  local KM="$R/lib/modules/$KREL/kernel"
  # Load order follows each module's depends= (modinfo): netfs before 9pnet before 9p.
  for m in fs/configfs/configfs fs/netfs/netfs net/9p/9pnet net/9p/9pnet_virtio fs/9p/9p drivers/i2c/i2c-stub drivers/i2c/i2c-dev; do
    xz -dc "$KM/$m.ko.xz" > "$I/lib/modules/$(basename "$m").ko"
  done
  cp "$MOD/gpio-sim.ko" "$I/lib/modules/gpio-sim.ko"
  cat > "$I/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in configfs netfs 9pnet 9pnet_virtio 9p gpio-sim i2c-dev; do insmod /lib/modules/$m.ko || echo "PCPK-ERROR insmod $m"; done
# i2c-stub: a 24c02-like EEPROM at 0x50 and a byte-data device at 0x48, for the I2C helpers.
insmod /lib/modules/i2c-stub.ko chip_addr=0x50,0x48 || echo "PCPK-ERROR insmod i2c-stub"
mount -t 9p -o trans=virtio,version=9p2000.L,ro hostroot /host || echo "PCPK-ERROR mount 9p"
mount -t proc proc /host/proc; mount -t sysfs sys /host/sys; mount -t devtmpfs dev /host/dev
mount -t configfs none /host/sys/kernel/config; mount -t debugfs none /host/sys/kernel/debug
mount -t tmpfs -o size=512m tmp /host/tmp; mount -t tmpfs tmp /host/root
ARGS=$(cat /proc/cmdline)
REPO=${ARGS##*pcp.repo=}; REPO=${REPO%% *}
echo "PCPK-BOOT kernel=$(cat /proc/sys/kernel/osrelease) repo=$REPO"
chroot /host /bin/sh -c "cd '$REPO' && HOME=/root TMPDIR=/tmp PATH=/usr/local/bin:/usr/bin:/bin NODE_OPTIONS= node --import tsx test/rpi-chardev-kernel-guest.ts"
echo "PCPK-EXIT $?"
poweroff -f
INIT
  chmod +x "$I/init"
  (cd "$I" && find . | "$R/bin/busybox" cpio -o -H newc 2>/dev/null | gzip -1) > "$INITRD.tmp"
  mv "$INITRD.tmp" "$INITRD"
  cp "$R/boot/vmlinuz-$KREL" "$IMAGE"
  log "image ready: $IMAGE $INITRD"
}

run () {
  [ -f "$IMAGE" ] && [ -f "$INITRD" ] || { log "no image in $CACHE: run $0 build"; exit 3; }
  # TCG by default: on this host (itself a Firecracker VM) nested KVM fails: "-cpu host" aborts with
  # "failed to set MSR 0x10a", and with -arch-capabilities the kernel's decompressor stops with "KVM internal
  # error. Suberror: 1 ... emulation failure". PCP_KERNEL_ACCEL=-enable-kvm PCP_KERNEL_CPU=host tries KVM.
  # -no-reboot + panic=-1: a kernel panic ends QEMU instead of looping; the host test also has a timeout.
  exec qemu-system-x86_64 ${PCP_KERNEL_ACCEL:--accel tcg} -cpu "${PCP_KERNEL_CPU:-max}" -m "${PCP_KERNEL_MEM_MB:-1536}" -smp 1 -nographic -no-reboot \
    -kernel "$IMAGE" -initrd "$INITRD" \
    -append "console=ttyS0 quiet loglevel=3 panic=-1 pcp.repo=$REPO" \
    -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
    -nic none
}

case "${1:-}" in
  build) build ;;
  run) run ;;
  info) echo "$CACHE"; [ -f "$IMAGE" ] && [ -f "$INITRD" ] && echo complete || echo missing ;;
  *) echo "usage: $0 build|run|info" >&2; exit 2 ;;
esac
