#!/usr/bin/env python3
"""Lists the managed methods of the moat binary that a command runs, in the order they first run.

    trace-methods.py METHODS OUT -- COMMAND [ARGS...]

METHODS has one line per method of the binary: "ADDRESS NAME[ NAME...]" (hex address in the
ELF image; aliases of a folded body share a line). OUT receives the names that ran, first hit
first. Used by scripts/profile-order.sh; a developer tool, x86-64 only.

How: COMMAND runs under ptrace, and so does everything it starts (fork, clone, exec are
followed). Whenever a process execs the moat binary (found by comparing its code with the
file), a one-shot breakpoint (int3) is written at the entry of every method of its image through
/proc/PID/mem. A hit records the method, puts the original byte back and resumes at it, so each
method costs one trap per process. Other processes run untouched. Signals pass through.
"""
import ctypes
import os
import signal
import sys

PTRACE_TRACEME, PTRACE_CONT, PTRACE_DETACH = 0, 7, 17
PTRACE_GETREGS, PTRACE_SETREGS = 12, 13
PTRACE_SETOPTIONS, PTRACE_GETEVENTMSG = 0x4200, 0x4201
OPTIONS = 0x2 | 0x4 | 0x8 | 0x10 | 0x100000  # TRACEFORK|TRACEVFORK|TRACECLONE|TRACEEXEC|EXITKILL
EVENT_FORK, EVENT_VFORK, EVENT_CLONE, EVENT_EXEC = 1, 2, 3, 4
WALL = 0x40000000
RIP = 16  # index of rip in struct user_regs_struct

libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
libc.ptrace.restype = ctypes.c_long


class Regs(ctypes.Structure):
    _fields_ = [("r", ctypes.c_ulong * 27)]


def ptrace(request, pid, addr=0, data=0):
    if libc.ptrace(request, pid, ctypes.c_void_p(addr), ctypes.c_void_p(data)) == -1:
        raise OSError(ctypes.get_errno(), f"ptrace({request}, {pid})")


class Image:
    """The breakpoints of one address space running the moat binary."""

    def __init__(self, base, pending):
        self.base = base
        self.pending = pending  # address -> original byte, for breakpoints not hit yet
        self.all = set(pending)


def main():
    methods_path, out_path = sys.argv[1], sys.argv[2]
    command = sys.argv[sys.argv.index("--") + 1:]
    names = {}
    for line in open(methods_path):
        fields = line.split()
        names[int(fields[0], 16)] = fields[1:]
    lo, hi = min(names), max(names) + 1
    with open(os.environ["MOAT_BINARY"], "rb") as f:
        f.seek(lo)
        code = f.read(hi - lo)  # __managedcode's file offsets are its addresses (PIE, first segment at 0)

    def moat_base(pid):
        """The load address of the moat binary in pid, or None if pid runs something else."""
        with open(f"/proc/{pid}/maps") as maps:
            for line in maps:
                fields = line.split()
                if len(fields) >= 6 and int(fields[2], 16) == 0:
                    base = int(fields[0].split("-")[0], 16)
                    try:
                        with open(f"/proc/{pid}/mem", "rb") as mem:
                            mem.seek(base + lo)
                            if mem.read(256) == code[:256]:
                                return base
                    except OSError:
                        pass
                    return None
        return None

    def arm(pid):
        base = moat_base(pid)
        if base is None:
            return None
        patched = bytearray(code)
        pending = {}
        for address in names:
            pending[base + address] = patched[address - lo]
            patched[address - lo] = 0xCC
        with open(f"/proc/{pid}/mem", "r+b", buffering=0) as mem:
            mem.seek(base + lo)
            mem.write(patched)
        return Image(base, pending)

    order, seen = [], set()
    images = {}  # tgid -> Image (vfork children share their parent's)
    tgid_of = {}
    started = set()

    child = os.fork()
    if child == 0:
        ptrace(PTRACE_TRACEME, 0)
        os.kill(os.getpid(), signal.SIGSTOP)
        os.execvp(command[0], command)
    _, status = os.waitpid(child, WALL)
    ptrace(PTRACE_SETOPTIONS, child, 0, OPTIONS)
    tgid_of[child] = child
    started.add(child)
    ptrace(PTRACE_CONT, child)
    exit_status = 0
    live = {child}
    while live:
        try:
            pid, status = os.waitpid(-1, WALL)
        except ChildProcessError:
            break
        if os.WIFEXITED(status) or os.WIFSIGNALED(status):
            live.discard(pid)
            if pid == child:
                exit_status = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
            if tgid_of.get(pid) == pid:
                images.pop(pid, None)
            tgid_of.pop(pid, None)
            continue
        if not os.WIFSTOPPED(status):
            continue
        live.add(pid)
        sig = os.WSTOPSIG(status)
        event = status >> 16
        deliver = 0
        if pid not in tgid_of:
            tgid_of[pid] = int(next(l.split()[1] for l in open(f"/proc/{pid}/status") if l.startswith("Tgid:")))
        if event in (EVENT_FORK, EVENT_VFORK, EVENT_CLONE):
            msg = ctypes.c_ulong()
            ptrace(PTRACE_GETEVENTMSG, pid, 0, ctypes.addressof(msg))
            new = msg.value
            new_tgid = int(next(l.split()[1] for l in open(f"/proc/{new}/status") if l.startswith("Tgid:")))
            tgid_of[new] = new_tgid
            parent = images.get(tgid_of[pid])
            if new_tgid != tgid_of[pid] and parent is not None:
                if event == EVENT_VFORK:
                    images[new_tgid] = parent
                else:  # a copy of the address space, breakpoints and all
                    copy = Image(parent.base, dict(parent.pending))
                    copy.all = parent.all
                    images[new_tgid] = copy
            live.add(new)
        elif event == EVENT_EXEC:
            tgid_of[pid] = pid
            image = arm(pid)
            if image is None:
                images.pop(pid, None)
            else:
                images[pid] = image
        elif sig == signal.SIGTRAP and event == 0:
            image = images.get(tgid_of[pid])
            regs = Regs()
            ptrace(PTRACE_GETREGS, pid, 0, ctypes.addressof(regs))
            address = regs.r[RIP] - 1
            if image is not None and address in image.all:
                original = image.pending.pop(address, None)
                if original is not None:
                    with open(f"/proc/{pid}/mem", "r+b", buffering=0) as mem:
                        mem.seek(address)
                        mem.write(bytes([original]))
                    method = address - image.base
                    if method not in seen:
                        seen.add(method)
                        order.append(method)
                regs.r[RIP] = address
                ptrace(PTRACE_SETREGS, pid, 0, ctypes.addressof(regs))
            else:
                deliver = sig
        elif sig == signal.SIGSTOP and pid not in started:
            pass  # the stop every newly traced task starts with
        elif event == 0:
            deliver = sig
        started.add(pid)
        try:
            ptrace(PTRACE_CONT, pid, 0, deliver)
        except OSError:
            live.discard(pid)
    with open(out_path, "a") as out:
        for method in order:
            out.write("".join(n + "\n" for n in names[method]))
    return exit_status


if __name__ == "__main__":
    sys.exit(main())
