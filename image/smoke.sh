#!/bin/sh
# Smoke test of the Jib image tarball without a container runtime: unpacks target/jib-image.tar
# layer by layer into a root file system, checks that it holds the JRE and the application, then
# runs the image's own entrypoint with the image's Env and User inside a chroot, in a fresh network
# namespace (loopback only: nothing outside is reachable, no port clashes with the host):
#   1. `java -version`;
#   2. the dispatcher with `--spring.profiles.active=local` until /actuator/health/readiness is UP.
# Step 2 needs Azurite (the local profile's storage emulator, a Node.js tool that is not part of the
# image): NODE_MODULES (default: ./node_modules, after `npm ci`) and the host's `node` are
# bind-mounted read-only for the run; without them step 2 is skipped, saying so.
#
#   sudo image/smoke.sh [IMAGE_TAR]         # default: target/jib-image.tar
#
# Environment: SMOKE_TIMEOUT (seconds to wait for readiness, default 300), NODE_MODULES.
# Needs root, python3, unshare, chroot, ip, curl, mount.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
project=$(dirname "$here")
image=${1:-$project/target/jib-image.tar}
timeout=${SMOKE_TIMEOUT:-300}
node_modules=${NODE_MODULES:-$project/node_modules}

fail() { echo "smoke: FAIL: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "must run as root (chroot, unshare)"
[ -f "$image" ] || fail "no image tarball at $image (build it: see docs/deploy.md, 'Image')"
case $timeout in ''|*[!0-9]*) fail "SMOKE_TIMEOUT must be a number of seconds, got '$timeout'" ;; esac

work=$(mktemp -d "${TMPDIR:-/tmp}/paia-smoke.XXXXXX")
root=$work/rootfs
cleanup() {
    for m in home/paia/node_modules usr/local/bin/node dev proc; do umount "$root/$m" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT INT TERM
mkdir -p "$root"

# unpack: manifest.json names the config and the layers in order; each layer is applied over the
# previous ones (OCI whiteouts handled, although Jib's own layers have none)
python3 - "$image" "$root" "$work" <<'PY'
import json, os, shutil, sys, tarfile
image, root, work = sys.argv[1:]
# our own image: keep owners, modes and links as they are (Python >= 3.11.4 asks for it explicitly)
trusted = {"filter": "fully_trusted"} if hasattr(tarfile, "fully_trusted_filter") else {}
with tarfile.open(image) as t:
    manifest = json.load(t.extractfile("manifest.json"))
    if len(manifest) != 1:
        sys.exit("smoke: expected one image in manifest.json, found %d" % len(manifest))
    m = manifest[0]
    config = json.load(t.extractfile(m["Config"]))
    if len(config["rootfs"]["diff_ids"]) != len(m["Layers"]):
        sys.exit("smoke: manifest lists %d layers, config %d diff_ids" % (len(m["Layers"]), len(config["rootfs"]["diff_ids"])))
    for i, name in enumerate(m["Layers"]):
        with tarfile.open(fileobj=t.extractfile(name), mode="r:*") as layer:
            members = []
            for member in layer.getmembers():
                base = os.path.basename(member.name)
                if base.startswith(".wh."):
                    target = os.path.join(root, os.path.dirname(member.name), base[4:])
                    if base == ".wh..wh..opq":
                        d = os.path.join(root, os.path.dirname(member.name))
                        for e in os.listdir(d) if os.path.isdir(d) else []:
                            p = os.path.join(d, e); shutil.rmtree(p) if os.path.isdir(p) and not os.path.islink(p) else os.remove(p)
                    elif os.path.lexists(target):
                        shutil.rmtree(target) if os.path.isdir(target) and not os.path.islink(target) else os.remove(target)
                    continue
                if member.isdev():
                    continue
                members.append(member)
            layer.extractall(root, members=members, numeric_owner=True, **trusted)
        print("smoke: layer %d/%d %s applied (%d entries)" % (i + 1, len(m["Layers"]), name[:19], len(members)), file=sys.stderr)
c = config["config"]
with open(os.path.join(work, "env"), "w") as f:
    f.write("\n".join(c.get("Env", [])) + "\n")
with open(os.path.join(work, "entrypoint"), "w") as f:
    f.write("\n".join(c.get("Entrypoint") or []) + "\n")
with open(os.path.join(work, "meta"), "w") as f:
    f.write("user=%s\nworkdir=%s\n" % (c.get("User", "0:0"), c.get("WorkingDir", "/")))
print("smoke: user %s, entrypoint %s" % (c.get("User"), " ".join(c.get("Entrypoint") or [])), file=sys.stderr)
PY

user=$(sed -n 's/^user=//p' "$work/meta")
java_home=$(sed -n 's/^JAVA_HOME=//p' "$work/env")
[ -n "$java_home" ] && [ -x "$root$java_home/bin/java" ] || fail "no \$JAVA_HOME/bin/java ($java_home) in the image"
for f in app/jib-classpath-file app/jib-main-class-file app/classes/org/paia/dispatcher/DispatcherApplication.class; do
    [ -f "$root/$f" ] || fail "/$f missing from the image"
done
libs=$(ls "$root/app/libs" | wc -l)
[ "$libs" -gt 0 ] || fail "/app/libs is empty"
echo "smoke: rootfs $(du -sh "$root" | cut -f1), java at $java_home/bin/java, $libs jars in /app/libs" >&2

mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
# runs "$@" as the image's user, with the image's environment only, in the chroot
in_image() {
    dir=$1; shift
    env -i $(cat "$work/env") HOME=/home/paia chroot --userspec="$user" "$root" /bin/sh -c 'cd "$0" && exec "$@"' "$dir" "$@"
}

echo "smoke: 1. java -version (as $user, in the image)" >&2
in_image / java -version 2>&1 | sed 's/^/  | /' >&2
in_image / java -version >/dev/null 2>&1 || fail "java -version failed in the image"

if [ ! -x "$node_modules/.bin/azurite-blob" ] || ! command -v node >/dev/null; then
    echo "smoke: 2. SKIPPED: the local profile needs Azurite: run 'npm ci' (or set NODE_MODULES) and have node on the PATH" >&2
    echo "smoke: OK (image unpacked, java runs; dispatcher start not tried)" >&2
    exit 0
fi
mkdir -p "$root/home/paia/node_modules" "$root/usr/local/bin"
touch "$root/usr/local/bin/node"
mount --bind -o ro "$node_modules" "$root/home/paia/node_modules"
mount --bind -o ro "$(readlink -f "$(command -v node)")" "$root/usr/local/bin/node"
cp "$project/package.json" "$root/home/paia/package.json"
[ -f "$project/package-lock.json" ] && cp "$project/package-lock.json" "$root/home/paia/"
chown 1000:1000 "$root/home/paia/package.json"

echo "smoke: 2. the entrypoint with --spring.profiles.active=local (own network namespace; waiting up to ${timeout}s for readiness)" >&2
log=$work/dispatcher.log
export work root user timeout log
# shellcheck disable=SC2016
unshare --net --fork sh -c '
    ip link set lo up
    env -i $(cat "$work/env") HOME=/home/paia chroot --userspec="$user" "$root" /bin/sh -c "cd /home/paia && exec \"\$@\" --spring.profiles.active=local" \
        sh $(cat "$work/entrypoint") >"$log" 2>&1 &
    pid=$!
    i=0; status=1
    while [ $i -lt "$timeout" ]; do
        if ! kill -0 $pid 2>/dev/null; then echo "smoke: the dispatcher exited" >&2; break; fi
        if body=$(curl -fsS --max-time 5 http://127.0.0.1:8080/actuator/health/readiness 2>/dev/null); then
            echo "smoke: readiness after ~${i}s: $body" >&2; status=0; break
        fi
        sleep 2; i=$((i + 2))
    done
    if [ $status = 0 ]; then
        curl -fsS --max-time 5 http://127.0.0.1:8080/actuator/health/liveness >&2 && echo >&2
        curl -fsS --max-time 5 http://127.0.0.1:8080/actuator/prometheus | grep -c "^camel_" | sed "s/^/smoke: camel_* metric samples: /" >&2
    fi
    kill $pid 2>/dev/null; wait $pid 2>/dev/null
    exit $status
' && ok=1 || ok=0
mkdir -p "$project/target" && cp "$log" "$project/target/image-smoke.log"
grep -E "Starting DispatcherApplication|Started DispatcherApplication|APPLICATION FAILED" "$log" | head -5 | sed 's/^/  | /' >&2
echo "smoke: the dispatcher's log: target/image-smoke.log" >&2
[ $ok = 1 ] || { tail -40 "$log" | sed 's/^/  | /' >&2; fail "the dispatcher did not become ready in the image"; }
echo "smoke: OK (image unpacked, java runs, the dispatcher starts and is ready)" >&2
