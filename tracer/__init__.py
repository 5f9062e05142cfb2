"""lima-trace: a bcc eBPF tracer of kernel lock events (which locks a workload takes, how often, how long
it waits, from which kernel stacks, per thread, process and cgroup), written into the LIMA database.

Modules: cli (the command, top to bottom like a bcc tool), check (what the kernel allows, backend
choice), vocabulary (flags, primitives, interrupt frames as data), capture (raw capture -> rows),
kallsyms / dwarf (addresses -> names, file:line), btf (struct member offsets, functions), cgroups
(path / container -> cgroup v2 id), store (one transaction per run, side file when the db is busy),
report (end-of-run summary).  BPF C: common.bpf.c + one of contention.bpf.c, lockdep.bpf.c,
primitives.bpf.c, sharing lima_trace.h.  importer (lima-import) is a separate tool.
"""
