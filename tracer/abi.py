"""ctypes mirrors of the records of lima_trace.h that bcc cannot decode by itself (struct lock_event
nests struct lock_key).  tests/test_trace_unit.py checks sizes and constants against the header."""

from __future__ import annotations

import ctypes as ct

__all__ = ["LockKey", "LockEvent", "decode_event"]


class LockKey(ct.Structure):
    _fields_ = [
        ("lock_addr", ct.c_uint64),
        ("cgroup_id", ct.c_uint64),
        ("name_ptr", ct.c_uint64),
        ("stack_id", ct.c_int32),
        ("pid", ct.c_uint32),
        ("tgid", ct.c_uint32),
        ("flags", ct.c_uint32),
        ("event", ct.c_uint16),
        ("subclass", ct.c_uint16),
        ("comm", ct.c_char * 16),
    ]


class LockEvent(ct.Structure):
    _fields_ = [
        ("key", LockKey),
        ("ts_ns", ct.c_uint64),
        ("wait_ns", ct.c_uint64),
        ("cpu", ct.c_uint32),
        ("pad", ct.c_uint32),
    ]


def decode_event(data) -> LockEvent:
    """A ring buffer record (a C pointer from bcc's callback) as a LockEvent."""
    return ct.cast(data, ct.POINTER(LockEvent)).contents
