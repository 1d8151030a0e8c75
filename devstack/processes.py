"""The machine's processes as Linux's /proc shows them: alive or not, process groups, a process's family."""

import os
from collections import defaultdict
from collections.abc import Iterator


def alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie (Linux /proc)."""
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def live_groups() -> set[int]:
    """The process groups with a process alive now (zombies aside)."""
    return {int(fields[2]) for _, fields in _processes() if fields[0] != "Z"}


def descendants(root: int) -> set[int]:
    """The ids of a process and of all its descendants alive now (Linux /proc)."""
    children = defaultdict(list)
    for pid, fields in _processes():
        children[int(fields[1])].append(pid)
    family, found = set(), [root]
    while found:
        pid = found.pop()
        family.add(pid)
        found += children[pid]
    return family


def _stat(pid: int | str) -> list[str] | None:
    """A process's /proc/<pid>/stat fields after its name (state, parent, group, ...), or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rpartition(")")[2].split()
    except OSError:
        return None


def _processes() -> Iterator[tuple[int, list[str]]]:
    """Each process alive now (zombies included), with its /proc stat fields."""
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(entry)) is not None:
            yield int(entry), fields
