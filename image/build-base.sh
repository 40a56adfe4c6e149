#!/bin/sh
# Builds the dispatcher's base image -- Debian bookworm (minbase) + openjdk-17-jre-headless --
# as a docker-archive tarball (the format `docker save` writes), without Docker and without any
# registry: only Debian's package mirror is contacted. Jib's `image` profile uses the result as
# its base (`tar://`), so `./mvnw -Pimage ... jib:buildTar` then needs nothing but Maven Central.
#
#   sudo image/build-base.sh [OUTPUT]            # default OUTPUT: image/base-image.tar
#
# Environment: DEBIAN_MIRROR (default http://deb.debian.org/debian), DEBIAN_SECURITY_MIRROR
# (default http://deb.debian.org/debian-security), SOURCE_DATE_EPOCH (file times in the layer;
# default: now). Needs root (debootstrap, chroot), debootstrap (installed with apt-get if
# missing), tar, python3, mount.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/base-image.tar}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
suite=bookworm
tag=paia/base-jre17:$suite
epoch=${SOURCE_DATE_EPOCH:-$(date +%s)}

fail() { echo "build-base: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "must run as root (debootstrap and chroot need it)"
command -v python3 >/dev/null || fail "python3 is required"
case $epoch in ''|*[!0-9]*) fail "SOURCE_DATE_EPOCH must be a number of seconds, got '$epoch'" ;; esac
case $mirror in http://*|https://*) ;; *) fail "DEBIAN_MIRROR must be an http(s) URL, got '$mirror'" ;; esac
case $security in http://*|https://*) ;; *) fail "DEBIAN_SECURITY_MIRROR must be an http(s) URL, got '$security'" ;; esac
if ! command -v debootstrap >/dev/null; then
    echo "build-base: installing debootstrap" >&2
    apt-get install -y -q debootstrap >/dev/null 2>&1 || { apt-get update -q && apt-get install -y -q debootstrap; }
fi
arch=$(dpkg --print-architecture)
case $arch in amd64|arm64) ;; *) fail "unsupported architecture '$arch' (amd64 and arm64 are)" ;; esac
goarch=$arch  # OCI / docker use the same names for these two

work=$(mktemp -d "${TMPDIR:-/tmp}/paia-base.XXXXXX")
root=$work/rootfs
cleanup() {
    for m in proc sys dev/pts dev; do umount "$root/$m" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

echo "build-base: debootstrap $suite ($arch, minbase) from $mirror" >&2
debootstrap --variant=minbase --arch="$arch" "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; fail "debootstrap failed (log above)"; }

cat >"$root/etc/apt/sources.list" <<SOURCES
deb $mirror $suite main
deb $mirror $suite-updates main
deb $security $suite-security main
SOURCES
# no docs, man pages or translations in the image, now and for anything installed later
cat >"$root/etc/dpkg/dpkg.cfg.d/01-paia-nodoc" <<'NODOC'
path-exclude=/usr/share/doc/*
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-exclude=/usr/share/lintian/*
NODOC
cat >"$root/etc/apt/apt.conf.d/01-paia-minimal" <<'APT'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
APT

mount -t proc proc "$root/proc"  # the JRE's postinst (ca-certificates-java) runs java
echo "build-base: installing openjdk-17-jre-headless" >&2
chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
    sh -c 'apt-get update -q && apt-get upgrade -y -q && apt-get install -y -q openjdk-17-jre-headless ca-certificates \
           && groupadd -g 1000 paia && useradd -u 1000 -g 1000 -d /home/paia -m -s /usr/sbin/nologin paia \
           && apt-get clean' >"$work/apt.log" 2>&1 \
    || { tail -20 "$work/apt.log" >&2; fail "package installation failed (log above)"; }
umount "$root/proc"

java_home=$(dirname "$(dirname "$(readlink -f "$root/usr/bin/java")")")
java_home=${java_home#"$root"}
[ -x "$root$java_home/bin/java" ] || fail "no java in the root file system"
java_version=$(chroot "$root" dpkg-query -W -f='${Version}' openjdk-17-jre-headless)

# trim: package lists, caches, logs, docs that debootstrap put there before the exclusions
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/var/cache/debconf/*-old \
       "$root"/var/log/* "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
       "$root"/usr/share/locale/* "$root"/usr/share/lintian/* "$root"/tmp/* "$root"/var/tmp/* \
       "$root"/var/lib/dpkg/*-old "$root"/etc/machine-id
mkdir -p "$root/var/log/apt"
chmod 1777 "$root/tmp" "$root/var/tmp"

echo "build-base: writing $out" >&2
layer=$work/layer.tar
tar --create --file "$layer" --directory "$root" --sort=name --numeric-owner --xattrs \
    --mtime="@$epoch" --clamp-mtime --exclude=./proc/* --exclude=./sys/* --exclude=./dev/* .

python3 - "$work" "$layer" "$tag" "$goarch" "$java_home" "$java_version" "$epoch" <<'PY'
import hashlib, json, os, sys, tarfile, time
work, layer, tag, arch, java_home, java_version, epoch = sys.argv[1:]
created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(epoch)))
h = hashlib.sha256()
with open(layer, "rb") as f:
    for chunk in iter(lambda: f.read(1 << 20), b""):
        h.update(chunk)
diff_id = h.hexdigest()
config = {
    "architecture": arch, "os": "linux", "created": created,
    "config": {
        "Env": ["PATH=" + java_home + "/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "JAVA_HOME=" + java_home, "LANG=C.UTF-8"],
        "Cmd": ["java", "-version"], "User": "1000:1000", "WorkingDir": "/",
        "Labels": {"org.opencontainers.image.title": "paia-base-jre17",
                   "org.opencontainers.image.description": "Debian bookworm minbase + openjdk-17-jre-headless " + java_version,
                   "org.opencontainers.image.base.name": "debian:bookworm (debootstrap, minbase)"},
    },
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff_id]},
    "history": [{"created": created, "created_by": "image/build-base.sh (debootstrap minbase + openjdk-17-jre-headless " + java_version + ")"}],
}
config_bytes = json.dumps(config, separators=(",", ":"), sort_keys=True).encode()
config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
manifest = [{"Config": config_name, "RepoTags": [tag], "Layers": [diff_id + "/layer.tar"]}]
out = os.path.join(work, "image.tar")
def add_bytes(tar, name, data):
    info = tarfile.TarInfo(name); info.size = len(data); info.mtime = int(epoch); info.mode = 0o644
    import io; tar.addfile(info, io.BytesIO(data))
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
    add_bytes(tar, "manifest.json", json.dumps(manifest).encode())
    add_bytes(tar, config_name, config_bytes)
    info = tar.gettarinfo(layer, arcname=diff_id + "/layer.tar"); info.mtime = int(epoch)
    info.uid = info.gid = 0; info.uname = info.gname = ""; info.mode = 0o644
    with open(layer, "rb") as f:
        tar.addfile(info, f)
print("build-base: layer sha256:" + diff_id, file=sys.stderr)
PY
mkdir -p "$(dirname "$out")"
mv "$work/image.tar" "$out"
echo "build-base: $tag ($java_home, openjdk $java_version) -> $out ($(du -h "$out" | cut -f1))" >&2
