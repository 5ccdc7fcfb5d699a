#!/usr/bin/env bash
# build-deb.sh: package a release build of smtp-sidecar as a .deb with dpkg-deb.
#
#   swift build -c release --product smtp-sidecar --static-swift-stdlib
#   packaging/build-deb.sh [--binary PATH] [--version VERSION] [--output DIR]
#
# Defaults: --binary .build/release/smtp-sidecar, --version from `git describe --tags`
# (without a tag 0.0.0+COMMITS.gHASH), --output the current directory. The binary should be linked with
# --static-swift-stdlib: the package then depends on no Swift runtime, only on the C and C++
# libraries such a binary still links (see Depends: below). Prints the path of the .deb it
# wrote.
#
# Layout:
#   /usr/bin/smtp-sidecar
#   /lib/systemd/system/smtp-sidecar.{socket,service}
#   /usr/lib/sysusers.d/smtp-sidecar.conf
#   /etc/smtp-sidecar/smtp-sidecar.conf                      (conffile)
#   /usr/share/doc/smtp-sidecar/README.md                    (when the repository has one)
# Maintainer scripts create the user with systemd-sysusers, reload systemd, enable and
# start the socket on first install, restart the daemon on upgrade, and stop it on removal.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
binary="$root/.build/release/smtp-sidecar"
version=""
output=$PWD

while [[ $# -gt 0 ]]; do
    case "$1" in
        --binary) binary=$2; shift 2 ;;
        --version) version=$2; shift 2 ;;
        --output) output=$2; shift 2 ;;
        *) echo "usage: $0 [--binary PATH] [--version VERSION] [--output DIR]" >&2; exit 2 ;;
    esac
done

[[ -x "$binary" ]] || { echo "build-deb: no executable at $binary (swift build -c release first)" >&2; exit 1; }
if [[ -z "$version" ]]; then
    if tag=$(git -C "$root" describe --tags 2>/dev/null); then
        version=$(sed 's/^v//; s/-/+/g' <<<"$tag")
    elif count=$(git -C "$root" rev-list --count HEAD 2>/dev/null); then
        # No tag: the commit count orders the builds of one branch, so an upgrade is
        # newer to apt. (A bare abbreviated hash was used before: taken as the version
        # when it began with a digit, 0.0.0+HASH when it did not, so "3c99445" sorted
        # above every later "0.0.0+e…" build.)
        version="0.0.0+$count.g$(git -C "$root" rev-parse --short HEAD)"
    fi
    # A Debian version must start with a digit.
    [[ "$version" =~ ^[0-9] ]] || version="0.0.0+${version:-unknown}"
fi
architecture=$(dpkg --print-architecture)

staging=$(mktemp -d)
trap 'rm -rf -- "$staging"' EXIT
package="$staging/smtp-sidecar"

install -D -m 0755 "$binary" "$package/usr/bin/smtp-sidecar"
install -D -m 0644 "$here/smtp-sidecar.socket" "$package/lib/systemd/system/smtp-sidecar.socket"
install -D -m 0644 "$here/smtp-sidecar.service" "$package/lib/systemd/system/smtp-sidecar.service"
install -D -m 0644 "$here/smtp-sidecar.sysusers" "$package/usr/lib/sysusers.d/smtp-sidecar.conf"
install -D -m 0644 "$here/smtp-sidecar.conf" "$package/etc/smtp-sidecar/smtp-sidecar.conf"
if [[ -f "$root/README.md" ]]; then
    install -D -m 0644 "$root/README.md" "$package/usr/share/doc/smtp-sidecar/README.md"
fi

mkdir -p "$package/DEBIAN"
installed_size=$(du -sk --exclude=DEBIAN "$package" | cut -f1)
# Depends: the packages of every shared library a --static-swift-stdlib release binary
# needs (readelf -d: libc, libm, libgcc_s, libstdc++ for BoringSSL's C++, libsqlite3 for
# the state database, libsystemd), systemd for the units, and ca-certificates: the daemon
# trusts the system's CA store (swift-nio-ssl reads /etc/ssl/certs) and without one it
# cannot build a TLS context, so it does not start at all. scripts/package-boot-test.sh
# checks the libraries against the binary's NEEDED entries on a real install.
cat >"$package/DEBIAN/control" <<CONTROL
Package: smtp-sidecar
Version: $version
Architecture: $architecture
Maintainer: smtp-sidecar maintainers <maintainers@localhost>
Installed-Size: $installed_size
Depends: libc6, libgcc-s1, libsqlite3-0, libstdc++6, libsystemd0, systemd, ca-certificates
Section: mail
Priority: optional
Description: local daemon that sends email through users' own SMTP servers
 smtp-sidecar listens on a Unix socket (socket-activated by systemd) and sends
 email for workflow platforms through each user's own SMTP server.
CONTROL
echo "/etc/smtp-sidecar/smtp-sidecar.conf" >"$package/DEBIAN/conffiles"

cat >"$package/DEBIAN/postinst" <<'SCRIPT'
#!/bin/sh
set -e
if [ "$1" = "configure" ]; then
    systemd-sysusers smtp-sidecar.conf
    if [ -d /run/systemd/system ]; then
        systemctl daemon-reload
        if [ -z "$2" ]; then
            # First install: listen now and at every boot.
            systemctl enable --now smtp-sidecar.socket
        else
            systemctl try-restart smtp-sidecar.service
        fi
    fi
fi
exit 0
SCRIPT
cat >"$package/DEBIAN/prerm" <<'SCRIPT'
#!/bin/sh
set -e
if [ "$1" = "remove" ] && [ -d /run/systemd/system ]; then
    systemctl disable --now smtp-sidecar.socket smtp-sidecar.service || true
fi
exit 0
SCRIPT
cat >"$package/DEBIAN/postrm" <<'SCRIPT'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload || true
fi
if [ "$1" = "purge" ]; then
    # The state (credentials) goes with a purge; the system user stays, as Debian does.
    rm -rf /var/lib/smtp-sidecar
fi
exit 0
SCRIPT
chmod 0755 "$package/DEBIAN/postinst" "$package/DEBIAN/prerm" "$package/DEBIAN/postrm"

mkdir -p "$output"
deb="$(cd "$output" && pwd)/smtp-sidecar_${version}_${architecture}.deb"
dpkg-deb --root-owner-group --build "$package" "$deb" >/dev/null
echo "$deb"
