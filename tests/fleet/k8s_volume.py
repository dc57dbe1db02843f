#!/usr/bin/env python3
"""k8s_volume.py: a Kubernetes Secret or ConfigMap volume, as the kubelet
writes it, for tests/fleet/fleet.sh.

    k8s_volume.py DIR KEY=@FILE|KEY=TEXT ...

Projects the payload (the whole new set of keys: a key left out is
removed) into DIR, which must exist, the way the kubelet's AtomicWriter
(kubernetes pkg/volume/util/atomic_writer.go) does:

  1. the current version is the directory that DIR/..data links to;
     when no key changed and none is removed, nothing is written;
  2. a new directory DIR/..YYYY_MM_DD_HH_MM_SS.RANDOM (UTC; made 0700,
     then 0755) gets every key, written in place (open, write, close, no
     fsync; mode 0644), in no particular order;
  3. DIR/..data_tmp is made a link to it (a relative target: the name),
     then renamed over DIR/..data: the one atomic step;
  4. only then, each top-level key without a visible name gets one,
     DIR/KEY -> ..data/KEY (existing ones are never touched again);
  5. the visible names of removed keys are unlinked, then the old
     version's directory is removed, files first.

Prints the new version's directory name (or "unchanged").
"""
import os
import random
import shutil
import sys
import time

DATA = "..data"
DATA_TMP = "..data_tmp"


def payload(args):
    keys = {}
    for a in args:
        k, sep, v = a.partition("=")
        if not sep or not k or k.startswith("..") or "/" in k:
            sys.exit("k8s_volume.py: bad key: %r" % a)
        if v.startswith("@"):
            with open(v[1:], "rb") as f:
                keys[k] = f.read()
        else:
            keys[k] = v.encode()
    return keys


def current(top):
    try:
        return os.readlink(os.path.join(top, DATA))
    except FileNotFoundError:
        return None


def unchanged(top, old, keys):
    if old is None:
        return False
    olddir = os.path.join(top, old)
    if set(os.listdir(olddir)) != set(keys):
        return False
    for k, v in keys.items():
        with open(os.path.join(olddir, k), "rb") as f:
            if f.read() != v:
                return False
    return True


def write(top, keys):
    old = current(top)
    if unchanged(top, old, keys):
        print("unchanged")
        return
    prefix = time.strftime("..%Y_%m_%d_%H_%M_%S.", time.gmtime())
    while True:
        name = prefix + str(random.getrandbits(32))
        try:
            os.mkdir(os.path.join(top, name), 0o700)
            break
        except FileExistsError:
            continue
    new = os.path.join(top, name)
    os.chmod(new, 0o755)
    order = list(keys)
    random.shuffle(order)
    for k in order:
        fd = os.open(os.path.join(new, k),
                     os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, keys[k])
        finally:
            os.close(fd)
        os.chmod(os.path.join(new, k), 0o644)
    os.symlink(name, os.path.join(top, DATA_TMP))
    os.rename(os.path.join(top, DATA_TMP), os.path.join(top, DATA))
    for k in keys:
        vis = os.path.join(top, k)
        if not os.path.islink(vis) and not os.path.exists(vis):
            os.symlink(os.path.join(DATA, k), vis)
    if old is not None:
        for k in os.listdir(os.path.join(top, old)):
            if k not in keys:
                os.unlink(os.path.join(top, k))
        shutil.rmtree(os.path.join(top, old))
    print(name)


def main():
    if len(sys.argv) < 3 or not os.path.isdir(sys.argv[1]):
        sys.exit("usage: k8s_volume.py DIR KEY=@FILE|KEY=TEXT ...")
    write(sys.argv[1], payload(sys.argv[2:]))


if __name__ == "__main__":
    main()
