#!/usr/bin/env bash
# Packs a published dq-agent folder as artifacts/dq-agent_<version>_<arch>.deb with dpkg-deb (no debhelper: the
# package is a prebuilt binary, and dpkg-deb is in every Debian). Called by build.cake's Publish target with --aot.
#   eng/deb/build-deb.sh PUBLISH_DIR ARCH VERSION OUT_DIR
# ARCH is Debian's name (arm64, amd64). Layout: docs/building.md, "The .deb".
set -euo pipefail
if [ $# -ne 4 ]; then
    echo "usage: $0 PUBLISH_DIR ARCH VERSION OUT_DIR" >&2
    exit 64
fi
publish=$1 arch=$2 version=$3 out=$4
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
for f in dq-agent libonnxruntime.so appsettings.json; do
    [ -f "$publish/$f" ] || { echo "build-deb.sh: $publish/$f is missing: publish dq-agent with --aot first" >&2; exit 66; }
done

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
pkg="$stage/dq-agent"

# The binary and the native libraries it loads from its own directory.
install -d "$pkg/usr/lib/dq-agent" "$pkg/usr/bin"
install -m 0755 "$publish/dq-agent" "$pkg/usr/lib/dq-agent/dq-agent"
for lib in "$publish"/*.so; do install -m 0644 "$lib" "$pkg/usr/lib/dq-agent/"; done
install -m 0644 "$publish/appsettings.json" "$pkg/usr/lib/dq-agent/appsettings.json"
ln -s ../lib/dq-agent/dq-agent "$pkg/usr/bin/dq-agent"

# Configuration: every board's config, chosen at install time (postinst) into device.json.
install -d "$pkg/etc/dq-agent/boards"
for board in "$root"/device-configs/*.json; do install -m 0644 "$board" "$pkg/etc/dq-agent/boards/"; done
install -m 0640 "$here/dq-agent.env" "$pkg/etc/dq-agent/dq-agent.env"

# systemd: the unit the repository documents, pointed at the packaged binary.
install -d "$pkg/lib/systemd/system"
sed 's#^ExecStart=/usr/local/bin/dq-agent #ExecStart=/usr/bin/dq-agent #' "$root/deploy/systemd/dq-agent.service" > "$pkg/lib/systemd/system/dq-agent.service"
grep -q '^ExecStart=/usr/bin/dq-agent ' "$pkg/lib/systemd/system/dq-agent.service" || { echo "build-deb.sh: ExecStart in deploy/systemd/dq-agent.service was not /usr/local/bin/dq-agent" >&2; exit 65; }

install -d "$pkg/usr/share/doc/dq-agent"
install -m 0644 "$root/README.md" "$pkg/usr/share/doc/dq-agent/README.md"
install -m 0644 "$here/copyright" "$pkg/usr/share/doc/dq-agent/copyright"

install -d "$pkg/DEBIAN"
for script in postinst prerm postrm; do install -m 0755 "$here/$script" "$pkg/DEBIAN/$script"; done
(cd "$pkg" && find etc -type f | sed 's#^#/#' | sort) > "$pkg/DEBIAN/conffiles"
installed_kib=$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@INSTALLED_SIZE@/$installed_kib/" "$here/control" > "$pkg/DEBIAN/control"

mkdir -p "$out"
deb="$out/dq-agent_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$deb" >/dev/null
echo "$deb"
