"""A session of docker-py (Debian's python3-docker) against the daemon DOCKER_HOST names.

tests/tests/sdk_docker_py.rs runs it against Debian's dockerd and against drydockd, each with
busybox:latest imported, and compares what it prints: one line per check, with nothing in it
that differs between two faithful daemons (no ids, times or daemon versions). It exits
non-zero on the first error docker-py raises that the session does not expect.
"""

import io
import os
import sys
import tarfile
import time

import docker
from docker.errors import APIError, ContainerError, NotFound

API = "1.33"
IMAGE = "busybox:latest"
NONE = "none"


def show(label, value):
    print(f"{label}: {value!r}", flush=True)


def tar_of(name, content):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo(name)
        info.size = len(content)
        info.mode = 0o640
        archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def untar(chunks):
    with tarfile.open(fileobj=io.BytesIO(b"".join(chunks))) as archive:
        return {
            member.name: archive.extractfile(member).read()
            for member in archive.getmembers()
            if member.isfile()
        }


def wait_for_log(container, text):
    for _ in range(200):
        if text in container.logs():
            return True
        time.sleep(0.05)
    return False


def main():
    client = docker.DockerClient(base_url=os.environ["DOCKER_HOST"], version=API, timeout=60)
    show("ping", client.ping())
    version = client.version()
    show("version fields", sorted(k for k in ("ApiVersion", "MinAPIVersion", "Os") if k in version))
    show("os", version["Os"])

    image = client.images.get(IMAGE)
    show("image tags", image.tags)
    show("image cmd", image.attrs["Config"]["Cmd"])

    show("run", client.containers.run(IMAGE, ["echo", "hello", "sdk"], remove=True, network_mode=NONE))
    try:
        client.containers.run(
            IMAGE, ["sh", "-c", "echo oops >&2; exit 3"], remove=True, network_mode=NONE
        )
        show("failing run", "no error")
    except ContainerError as error:
        show("failing run", (error.exit_status, error.stderr))

    sleeper = client.containers.run(
        IMAGE,
        ["sh", "-c", "echo started; exec sleep 30"],
        detach=True,
        name="pysleep",
        labels={"sdk": "py"},
        network_mode=NONE,
    )
    since = int(time.time()) - 1
    sleeper.reload()
    show("status", (sleeper.status, sleeper.name, sleeper.labels))
    show("logged", wait_for_log(sleeper, b"started"))
    show("logs", sleeper.logs(stdout=True, stderr=True))

    code, (out, err) = sleeper.exec_run(
        ["sh", "-c", "echo out; echo err >&2; exit 4"], demux=True
    )
    show("exec demux", (code, out, err))
    show("exec tty", sleeper.exec_run(["echo", "tty"], tty=True))
    show("exec env", sleeper.exec_run(["sh", "-c", "echo $GREETING"], environment={"GREETING": "hi"}))
    show("exec missing", sleeper.exec_run("nosuchcommand").exit_code)

    show("put archive", sleeper.put_archive("/tmp", tar_of("note.txt", b"from the sdk\n")))
    chunks, stat = sleeper.get_archive("/tmp/note.txt")
    show("archive stat", (stat["name"], stat["size"], oct(stat["mode"] & 0o777)))
    show("archive content", untar(chunks))
    try:
        sleeper.get_archive("/nosuchfile")
        show("missing archive", "no error")
    except NotFound as error:
        show("missing archive", error.status_code)

    show("listed", [c.name for c in client.containers.list(filters={"label": "sdk=py"})])
    show("top titles", sleeper.top()["Titles"][:2])
    stats = sleeper.stats(stream=False)
    show("stats fields", sorted(k for k in ("cpu_stats", "memory_stats", "pids_stats", "read") if k in stats))

    sleeper.pause()
    sleeper.reload()
    show("paused", sleeper.status)
    sleeper.unpause()
    sleeper.reload()
    show("unpaused", sleeper.status)

    sleeper.stop(timeout=1)
    show("wait", sorted(sleeper.wait().items()))
    sleeper.reload()
    show("stopped", (sleeper.status, sleeper.attrs["State"]["ExitCode"]))
    sleeper.rename("pyrenamed")
    sleeper.reload()
    show("renamed", sleeper.name)
    sleeper.remove()
    try:
        client.containers.get("pyrenamed")
        show("removed", "still there")
    except NotFound as error:
        show("removed", (error.status_code, error.explanation))

    events = client.events(
        since=since,
        until=int(time.time()) + 1,
        filters={"type": "container", "label": "sdk=py"},
        decode=True,
    )
    actions = [e["Action"] for e in events if not e["Action"].startswith("exec_")]
    show("events", actions)

    volume = client.volumes.create("pyvol", labels={"sdk": "py"})
    show("volume", (volume.name, volume.attrs["Driver"], volume.attrs["Labels"]))
    show("volumes listed", [v.name for v in client.volumes.list(filters={"label": "sdk=py"})])
    client.containers.run(
        IMAGE,
        ["sh", "-c", "echo kept > /data/f"],
        remove=True,
        network_mode=NONE,
        volumes={"pyvol": {"bind": "/data", "mode": "rw"}},
    )
    show(
        "volume content",
        client.containers.run(
            IMAGE,
            ["cat", "/data/f"],
            remove=True,
            network_mode=NONE,
            volumes={"pyvol": {"bind": "/data", "mode": "ro"}},
        ),
    )
    volume.remove()
    show("volume removed", [v.name for v in client.volumes.list(filters={"label": "sdk=py"})])

    image.tag("pytag", "v1")
    show("tagged", client.images.get("pytag:v1").id == image.id)
    archive = b"".join(client.api.get_image("pytag:v1"))
    client.images.remove("pytag:v1")
    try:
        client.images.get("pytag:v1")
        show("untagged", "still there")
    except NotFound as error:
        show("untagged", error.status_code)
    loaded = client.images.load(archive)
    show("loaded", [(i.id == image.id, sorted(i.tags)) for i in loaded])
    client.images.remove("pytag:v1")

    try:
        client.containers.create("nosuchimage:1", ["true"])
        show("unknown image", "created")
    except docker.errors.ImageNotFound as error:
        show("unknown image", (error.status_code, error.explanation))
    try:
        client.containers.create(IMAGE, ["true"], name="bad/name")
        show("bad name", "created")
    except APIError as error:
        show("bad name", (error.status_code, error.explanation))

    pruned = client.containers.prune(filters={"label": "sdk=py"})
    show("pruned", pruned["ContainersDeleted"])
    info = client.info()
    show("info", (info["Containers"], info["ContainersRunning"], info["Images"]))
    # The fields API 1.33 has; dockerd 20.10 adds BuilderSize and BuildCache of later APIs.
    df = client.df()
    show("df fields", sorted(k for k in ("Containers", "Images", "LayersSize", "Volumes") if k in df))
    show("df counts", (len(df["Containers"]), len(df["Images"]), len(df["Volumes"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
