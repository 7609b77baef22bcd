"""Start a Twisted ThreadPool, fork, and give the child's pool work to do.

The child process inherits the pool object, but not its threads: only the
thread that called fork() exists in the child.
"""

import os
import sys
import threading
import warnings

from twisted.python.threadpool import ThreadPool


def live_workers(pool):
    prefix = f"PoolThread-{pool.name}-"
    return sum(t.name.startswith(prefix) for t in threading.enumerate())


def describe(who, pool):
    label = f"{who}:"
    print(f"{label:8}pool.workers={pool.workers}, live threads={live_workers(pool)}")


def try_tasks(pool, count):
    """Submit ``count`` tasks; report which ones ran within a second each."""
    done = [threading.Event() for _ in range(count)]
    for event in done:
        pool.callInThread(event.set)
    ran = [event.wait(1 if i == 0 else 0.2) for i, event in enumerate(done)]
    print("child:  tasks run:", " ".join("yes" if r else "NO" for r in ran))


def demonstrate(minthreads, maxthreads, tasks):
    print(f"ThreadPool({minthreads}, {maxthreads}), {tasks} tasks after fork:")
    pool = ThreadPool(minthreads, maxthreads, name="demo")
    pool.start()
    describe("parent", pool)
    sys.stdout.flush()
    with warnings.catch_warnings():
        # Python 3.12+ warns that forking a process with threads is unsafe:
        # the very problem shown here. Let the demonstration run quietly.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:
        describe("child", pool)
        try_tasks(pool, tasks)
        describe("child", pool)
        sys.stdout.flush()
        os._exit(0)  # Skip cleanup: it would wait for threads that never were.
    os.waitpid(pid, 0)
    pool.stop()


if __name__ == "__main__":
    demonstrate(5, 20, tasks=7)
    print()
    demonstrate(3, 3, tasks=4)
